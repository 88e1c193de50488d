// Verilator main of the bulk co-simulation (nc_stream_tb.v): the stream side of the testbench in C++.
//
//   Vstream +in=<file> +out=<file> +cycles=<file> [+serial] [+max_cycles=N] [+layers=<file>]
//
// Same plusargs, files and summary line as the Icarus testbench (+layers, the hidden layers' tokens of a build
// with the debug output, is written by the testbench's Verilog, which Verilator compiles too; tlast is derived
// there from the beat). The input words (hex, one per line) are
// read once into memory; each clock cycle this loop does what the Icarus testbench's clocked block does
// with the values before the edge (handshake, next beat, output word, end of event), hands the next beat
// to the testbench's ports (registered at the edge, so the design sees the same stream cycle for cycle),
// and the output and cycle files are written at the end. $fscanf per word and $fwrite per output word
// cost about a third of the run when the testbench did the I/O in Verilog.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "Vstream.h"
#include "verilated.h"

namespace {

// Words of a Verilator port: IData (32 bits), QData (64) or VlWide<N> (32 N).
template <typename T>
struct PortWords;
template <>
struct PortWords<IData> {
    static constexpr int value = 1;
};
template <>
struct PortWords<QData> {
    static constexpr int value = 2;
};
template <std::size_t N>
struct PortWords<VlWide<N>> {
    static constexpr int value = static_cast<int>(N);
};

using Data = std::remove_reference_t<decltype(std::declval<Vstream&>().beat_tdata)>;
using Keep = std::remove_reference_t<decltype(std::declval<Vstream&>().beat_tkeep)>;
constexpr int WORDS = PortWords<Data>::value;  // AER words per beat (`NC_AXIS_WORDS)

// Word n of tdata / the four tkeep bits of word n, whatever Verilator's type for the width.
template <typename T>
void set_word(T& data, int n, uint32_t word) {
    data |= static_cast<T>(static_cast<T>(word) << (32 * n));
}
template <std::size_t N>
void set_word(VlWide<N>& data, int n, uint32_t word) {
    data[n] = word;
}
template <typename T>
void set_keep(T& keep, int n) {
    keep |= static_cast<T>(static_cast<T>(0xF) << (4 * n));
}
template <std::size_t N>
void set_keep(VlWide<N>& keep, int n) {
    keep[n / 8] |= 0xFu << (4 * (n % 8));
}
template <typename T>
void clear(T& value) {
    value = 0;
}
template <std::size_t N>
void clear(VlWide<N>& value) {
    for (std::size_t i = 0; i < N; ++i) value[i] = 0;
}

struct Options {
    std::string in, out, cycles;
    bool serial = false;
    uint64_t max_cycles = 0x7fffffff;
};

[[noreturn]] void fail(const std::string& message) {
    std::printf("nc_stream_tb: error: %s\n", message.c_str());
    std::fflush(stdout);
    std::exit(1);
}

Options parse(int argc, char** argv) {
    Options opt;
    bool in = false, out = false, cycles = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&](const char* key, std::string& field, bool& seen) {
            const std::string prefix = std::string("+") + key + "=";
            if (arg.rfind(prefix, 0) != 0) return false;
            field = arg.substr(prefix.size());
            seen = true;
            return true;
        };
        if (value("in", opt.in, in) || value("out", opt.out, out) || value("cycles", opt.cycles, cycles)) continue;
        if (arg == "+serial") {
            opt.serial = true;
        } else if (arg.rfind("+max_cycles=", 0) == 0) {
            opt.max_cycles = std::strtoull(arg.c_str() + 12, nullptr, 10);
        }
    }
    if (!in || !out || !cycles) fail("give +in=<file> +out=<file> +cycles=<file>");
    return opt;
}

// The input words, hex, one per line (a hand-rolled parser: strtoul per line was ~4 % of a run).
std::vector<uint32_t> read_words(const std::string& path) {
    FILE* fh = std::fopen(path.c_str(), "rb");
    if (!fh) fail("cannot open " + path);
    std::vector<char> text;
    char chunk[1 << 16];
    for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, fh)) > 0;) text.insert(text.end(), chunk, chunk + n);
    std::fclose(fh);
    std::vector<uint32_t> words;
    words.reserve(text.size() / 9 + 1);
    uint32_t word = 0;
    int digits = 0;
    for (const char c : text) {
        int v;
        if (c >= '0' && c <= '9') {
            v = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v = c - 'A' + 10;
        } else if (c == '\n' || c == '\r' || c == ' ' || c == '\t') {
            if (digits) words.push_back(word);
            word = 0;
            digits = 0;
            continue;
        } else {
            fail(path + ": not a hex word per line (character '" + std::string(1, c) + "')");
        }
        if (++digits > 8) fail(path + ": a word of more than 8 hex digits");
        word = word << 4 | static_cast<uint32_t>(v);
    }
    if (digits) words.push_back(word);
    return words;
}

void write_lines(const std::string& path, const std::vector<uint32_t>& values, const char* format) {
    FILE* fh = std::fopen(path.c_str(), "w");
    if (!fh) fail("cannot open " + path);
    for (const uint32_t v : values) std::fprintf(fh, format, v);
    std::fclose(fh);
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse(argc, argv);
    const std::vector<uint32_t> words = read_words(opt.in);
    {  // fail early, like the Icarus testbench, when an output cannot be written
        for (const std::string* path : {&opt.out, &opt.cycles}) {
            FILE* fh = std::fopen(path->c_str(), "w");
            if (!fh) fail("cannot open " + *path);
            std::fclose(fh);
        }
    }

    const std::unique_ptr<VerilatedContext> context{new VerilatedContext};
    context->commandArgs(argc, argv);
    const std::unique_ptr<Vstream> top{new Vstream{context.get()}};
    top->clk = 0;
    top->beat_load = 0;
    top->beat_valid = 0;
    top->eval();

    std::vector<uint32_t> out_words, event_cycles;
    out_words.reserve(words.size() / 4 + 1024);
    std::size_t pos = 0;                // next input word
    uint64_t cycle = 0;                 // clock edges out of reset so far
    uint64_t events_in = 0, events_out = 0;
    bool tvalid = false, beat_eoe = false;  // s_axis_tvalid now; the beat on s_axis holds an end-of-event word
    bool stalled = false;
    while (!context->gotFinish()) {
        // the clocked block of the Icarus testbench, on the values before this edge
        top->beat_load = 0;
        if (!top->in_reset) {
            bool pending = tvalid;
            if (tvalid && top->tready) {
                if (beat_eoe) ++events_in;
                pending = false;
            }
            if (!pending && pos < words.size() && (!opt.serial || events_out == events_in)) {
                clear(top->beat_tdata);
                clear(top->beat_tkeep);
                beat_eoe = false;
                for (int n = 0; n < WORDS && pos < words.size() && !beat_eoe; ++n) {
                    const uint32_t word = words[pos++];
                    set_word(top->beat_tdata, n, word);
                    set_keep(top->beat_tkeep, n);
                    beat_eoe = (word >> 30) == 2u;
                }
                top->beat_load = 1;
                pending = true;
            }
            top->beat_valid = pending;
            tvalid = pending;
            if (top->out_tvalid) {
                out_words.push_back(top->out_tdata);
                if (top->out_tlast) {
                    event_cycles.push_back(top->event_cycles);
                    ++events_out;
                }
            }
            stalled = cycle >= opt.max_cycles;
            if ((pos == words.size() && !pending && events_out == events_in) || stalled) break;
            ++cycle;
        }
        top->clk = 1;  // the edge: the design and the testbench's registers take the values set above
        top->eval();
        context->timeInc(2000);  // half a 4 ns period, in 1 ps units
        top->clk = 0;
        top->eval();
        context->timeInc(2000);
    }
    top->final();
    write_lines(opt.out, out_words, "%08" PRIx32 "\n");
    write_lines(opt.cycles, event_cycles, "%" PRIu32 "\n");
    std::printf("nc_stream_tb: %" PRIu64 " events, %" PRIu64 " cycles%s\n", events_out, cycle,
                stalled ? " (max_cycles reached: stalled?)" : "");
    return 0;
}
