// neurocal standalone C-simulation testbench (hand-written; package data of neurocal.firmware).
//
//   ./neurocal_tb INPUT.aer OUTPUT.aer
//
// Reads an input spike stream (32-bit little-endian AER words, neurocal/aer.py): per event, each
// tick's spikes then an end-of-tick marker, then an end-of-event marker. Checks the framing (the
// hardware trusts it), then feeds every event to the synthesisable AXI4-Stream top <project>_aer
// (nc::aer_event, nc_aer.h), which runs hls4ml's top once per tick, T + L ticks per event, and writes the
// output stream of neurocal/aer.py: the output layer's spikes (ascending tick, neuron), one
// readout-voltage word per output neuron, and the end-of-event word carrying T + L and the event number.

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "neurocal_aer_config.h"
#include "neurocal_aer_top.h"

namespace nnet {  // defined by every hls4ml testbench or bridge (layer tracing, unused here)
bool trace_enabled = false;
std::map<std::string, void *> *trace_outputs = NULL;
size_t trace_type_size = sizeof(double);
} // namespace nnet

namespace {

typedef neurocal_aer_config CFG;

int fail(const char *what, size_t word) {
    std::fprintf(stderr, "neurocal_tb: malformed input stream at word %zu: %s\n", word, what);
    return 2;
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s INPUT.aer OUTPUT.aer  (neurocal AER streams, see neurocal/aer.py)\n", argv[0]);
        return 1;
    }
    std::ifstream fin(argv[1], std::ios::binary);
    if (!fin) {
        std::fprintf(stderr, "neurocal_tb: cannot read %s\n", argv[1]);
        return 1;
    }
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(fin)), std::istreambuf_iterator<char>());
    if (bytes.size() % 4 != 0) {
        std::fprintf(stderr, "neurocal_tb: %s holds %zu bytes, not a whole number of 32-bit words\n", argv[1],
                     bytes.size());
        return 2;
    }
    std::vector<uint32_t> out;
    hls::stream<ap_uint<32> > s_axis("s_axis"), m_axis("m_axis");
    size_t first_word = 0;  // of the event being read
    unsigned ticks = 0;
    uint32_t last_address = 0;
    bool tick_has_spikes = false;
    unsigned events = 0;
    const size_t n_words = bytes.size() / 4;
    std::vector<uint32_t> words(n_words);
    for (size_t i = 0; i < n_words; i++) {
        words[i] = uint32_t(bytes[4 * i]) | (uint32_t(bytes[4 * i + 1]) << 8) | (uint32_t(bytes[4 * i + 2]) << 16) |
                   (uint32_t(bytes[4 * i + 3]) << 24);
    }
    for (size_t i = 0; i < n_words; i++) {
        const uint32_t w = words[i];
        const uint32_t kind = w >> CFG::KIND_SHIFT;
        const uint32_t tick = (w >> CFG::TICK_SHIFT) & CFG::TICK_MASK;
        const uint32_t address = w & CFG::ADDR_MASK;
        if (kind == CFG::KIND_SPIKE) {
            if (tick != ticks) return fail("a spike carries another tick than the one being read", i);
            if (address >= CFG::N_IN) return fail("a spike address is beyond the network's inputs", i);
            if (tick_has_spikes && address <= last_address) return fail("spikes not in ascending channel order", i);
            last_address = address;
            tick_has_spikes = true;
        } else if (kind == CFG::KIND_END_OF_TICK) {
            if (tick != ticks) return fail("end-of-tick markers out of order", i);
            ticks++;
            tick_has_spikes = false;
        } else if (kind == CFG::KIND_END_OF_EVENT) {
            if (tick_has_spikes || tick != ticks) return fail("end of event does not close the ticks read", i);
            if (ticks + CFG::N_LAYERS > CFG::TICK_MASK + 1) return fail("event too long for the output stream", i);
            for (size_t k = first_word; k <= i; k++) {
                s_axis.write(words[k]);
            }
            neurocal_aer_top(s_axis, m_axis);
            while (!m_axis.empty()) {
                out.push_back(m_axis.read().to_uint());
            }
            first_word = i + 1;
            ticks = 0;
            events++;
        } else {
            return fail("reserved kind 0b11 in an input stream", i);
        }
    }
    if (first_word != n_words) {
        return fail("the stream does not end with an end-of-event marker", n_words);
    }
    std::vector<unsigned char> obytes(4 * out.size());
    for (size_t i = 0; i < out.size(); i++) {
        for (int b = 0; b < 4; b++) {
            obytes[4 * i + b] = static_cast<unsigned char>((out[i] >> (8 * b)) & 0xFF);
        }
    }
    std::ofstream fout(argv[2], std::ios::binary);
    fout.write(reinterpret_cast<const char *>(obytes.data()), obytes.size());
    if (!fout) {
        std::fprintf(stderr, "neurocal_tb: cannot write %s\n", argv[2]);
        return 1;
    }
    std::printf("neurocal_tb: %u events, %zu output words -> %s\n", events, out.size(), argv[2]);
    return 0;
}
