// Verilator main of the bulk co-simulation (nc_stream_tb.v): the stream side of the testbench in C++.
//
//   Vstream +in=<file> +out=<file> +cycles=<file> [+serial] [+max_cycles=N] [+layers=<file>]
//           [+line_k=K +line_channels=N]
//
// With +line_k (a build with the detector input, NC_INPUT = 1) the same AER words are decoded into each event's
// rasters and driven as the detector lines: the window's trigger as soon as the line receiver is free (line_busy
// low; with +serial also after every earlier event has left), and from that cycle on one beat of K ticks per
// clock (sample j of channel c at bit j*N + c), as nc_line_rx captures them. Lines and trigger go straight to
// nc_top's ports before the edge (the receiver decides on its registers of the same cycle, as the cycle model's
// harness does); the event's cycles count from its trigger.
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

// Words of a Verilator port: CData, SData, IData (up to 8, 16, 32 bits), QData (64) or VlWide<N> (32 N).
template <typename T>
struct PortWords;
template <>
struct PortWords<CData> {
    static constexpr int value = 1;
};
template <>
struct PortWords<SData> {
    static constexpr int value = 1;
};
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

using Lines = std::remove_reference_t<decltype(std::declval<Vstream&>().line_data)>;
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
// Bit n of a port, whatever Verilator's type for the width.
template <typename T>
void set_bit(T& data, int n) {
    data |= static_cast<T>(static_cast<T>(1) << n);
}
template <std::size_t N>
void set_bit(VlWide<N>& data, int n) {
    data[n / 32] |= 1u << (n % 32);
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
    int line_k = 0;         // the detector input: ticks per clock (0: AER words on s_axis)
    int line_channels = 0;  // its lines
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
        } else if (arg.rfind("+line_k=", 0) == 0) {
            opt.line_k = std::atoi(arg.c_str() + 8);
        } else if (arg.rfind("+line_channels=", 0) == 0) {
            opt.line_channels = std::atoi(arg.c_str() + 15);
        }
    }
    if (!in || !out || !cycles) fail("give +in=<file> +out=<file> +cycles=<file>");
    if ((opt.line_k > 0) != (opt.line_channels > 0)) fail("give both +line_k=K and +line_channels=N, or neither");
    if (opt.line_k > 0 && static_cast<int64_t>(opt.line_k) * opt.line_channels > 32 * PortWords<Lines>::value)
        fail("+line_k x +line_channels exceeds the build's lines port (NC_LINES_W)");
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

// An event as the detector sees it: its spikes (tick, channel) in AER order, and its ticks.
struct Window {
    std::vector<std::pair<uint32_t, uint32_t>> spikes;
    uint32_t ticks = 0;
};

// The AER words → one Window per event (spikes, end-of-tick and end-of-event words as neurocal/aer.py packs them).
std::vector<Window> windows_of(const std::vector<uint32_t>& words, int channels) {
    std::vector<Window> out(1);
    for (const uint32_t word : words) {
        const uint32_t kind = word >> 30, tick = (word >> 16) & 0x3FFF, address = word & 0xFFFF;
        if (kind == 0u) {
            if (static_cast<int>(address) >= channels) fail("a spike on channel " + std::to_string(address) +
                                                            " of a build with " + std::to_string(channels) + " lines");
            out.back().spikes.emplace_back(tick, address);
        } else if (kind == 1u) {
            ++out.back().ticks;
        } else if (kind == 2u) {
            out.emplace_back();
        } else {
            fail("an input word of kind 3 (not an input stream)");
        }
    }
    out.pop_back();  // after the last end-of-event word
    return out;
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

    // the detector input: the events' windows, the one being captured and its next beat
    const bool lines = opt.line_k > 0;
    const std::vector<Window> windows = lines ? windows_of(words, opt.line_channels) : std::vector<Window>{};
    for (const Window& w : windows) {
        if (w.ticks == 0 || w.ticks % opt.line_k != 0 || w.ticks != windows[0].ticks)
            fail("every event of a lines build must have the same ticks, a multiple of +line_k");
    }
    const uint32_t beats = windows.empty() ? 0 : windows[0].ticks / opt.line_k;
    std::size_t next_window = 0, window = 0, spike = 0;  // next to trigger, being captured, its next spike
    uint32_t beat = beats;                                // next beat of the window (beats: none pending)
    bool lines_high = false;                              // line_data holds a beat
    top->line_trigger = 0;
    clear(top->line_data);

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
            if (lines) {  // the detector: a trigger when the receiver is free, then a beat per clock
                bool drive = top->line_trigger;  // a trigger lasts one cycle
                top->line_trigger = 0;
                if (beat >= beats && next_window < windows.size() && !top->line_busy &&
                    (!opt.serial || events_out == events_in)) {
                    top->line_trigger = 1;
                    window = next_window++;
                    spike = 0;
                    beat = 0;
                    ++events_in;
                }
                if (beat < beats) {
                    const Window& w = windows[window];
                    const uint32_t end = (beat + 1) * static_cast<uint32_t>(opt.line_k);
                    clear(top->line_data);
                    for (; spike < w.spikes.size() && w.spikes[spike].first < end; ++spike) {
                        const int sample = static_cast<int>(w.spikes[spike].first - beat * opt.line_k);
                        set_bit(top->line_data, sample * opt.line_channels + static_cast<int>(w.spikes[spike].second));
                    }
                    ++beat;
                    drive = lines_high = true;
                } else if (lines_high) {
                    clear(top->line_data);  // the lines low between windows
                    drive = true;
                    lines_high = false;
                }
                if (drive) top->eval();  // the new lines and trigger settle before the edge
            } else if (!pending && pos < words.size() && (!opt.serial || events_out == events_in)) {
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
            const bool fed = lines ? next_window == windows.size() : pos == words.size() && !pending;
            if ((fed && events_out == events_in) || stalled) break;
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
