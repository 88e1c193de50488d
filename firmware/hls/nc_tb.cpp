// neurocal standalone C-simulation testbench (hand-written; package data of neurocal.firmware).
//
//   ./neurocal_tb INPUT.aer OUTPUT.aer
//
// Reads an input spike stream (32-bit little-endian AER words, neurocal/aer.py): per event, each
// tick's spikes then an end-of-tick marker, then an end-of-event marker. Runs the hls4ml top one
// call per tick, T + L ticks per event (first_tick = 1 on tick 0 clears the state; silent input
// after the event flushes the layers), and writes the output stream of neurocal/aer.py: the output
// layer's spikes (ascending tick, neuron), one readout-voltage word per output neuron, and the
// end-of-event word carrying T + L and the input's event number. The word layout constants, the
// sizes and the call of the top function come from the generated neurocal_tb_config.h.

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "neurocal_tb_config.h"

namespace nnet {  // defined by every hls4ml testbench or bridge (layer tracing, unused here)
bool trace_enabled = false;
std::map<std::string, void *> *trace_outputs = NULL;
size_t trace_type_size = sizeof(double);
} // namespace nnet

namespace {

int fail(const char *what, size_t word) {
    std::fprintf(stderr, "neurocal_tb: malformed input stream at word %zu: %s\n", word, what);
    return 2;
}

uint32_t pack(uint32_t kind, uint32_t tick, uint32_t address) {
    return (kind << nc_tb::KIND_SHIFT) | ((tick & nc_tb::TICK_MASK) << nc_tb::TICK_SHIFT) |
           (address & nc_tb::ADDR_MASK);
}

// One event: ticks[t] lists the input channels that spiked in tick t. Appends its output words.
void run_event(const std::vector<std::vector<uint32_t> > &ticks, uint32_t event_number, std::vector<uint32_t> &out) {
    const unsigned total = ticks.size() + nc_tb::N_LAYERS;
    nc_tb::input_t in[nc_tb::N_IN];
    nc_tb::flag_t first_tick[1];
    nc_tb::probe_t probe[3 * nc_tb::N_OUT];
    for (unsigned t = 0; t < total; t++) {
        for (unsigned i = 0; i < nc_tb::N_IN; i++) {
            in[i] = 0;
        }
        if (t < ticks.size()) {
            for (size_t k = 0; k < ticks[t].size(); k++) {
                in[ticks[t][k]] = 1;
            }
        }
        first_tick[0] = (t == 0) ? 1 : 0;
        nc_tb::tick(in, first_tick, probe);
        for (unsigned n = 0; n < nc_tb::N_OUT; n++) {
            if (probe[n] != 0) {
                out.push_back(pack(nc_tb::KIND_SPIKE, t, n));
            }
        }
    }
    for (unsigned n = 0; n < nc_tb::N_OUT; n++) {
        const uint32_t v = static_cast<uint32_t>(probe[nc_tb::N_OUT + n].to_int()) & nc_tb::VOLTAGE_MASK;
        out.push_back((nc_tb::KIND_VOLTAGE << nc_tb::KIND_SHIFT) |
                      ((n & nc_tb::VOLTAGE_INDEX_MASK) << nc_tb::VOLTAGE_INDEX_SHIFT) | v);
    }
    out.push_back(pack(nc_tb::KIND_END_OF_EVENT, total, event_number));
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
    std::vector<std::vector<uint32_t> > ticks;
    std::vector<uint32_t> current;  // spikes of the tick being read
    unsigned events = 0;
    for (size_t i = 0; i < bytes.size() / 4; i++) {
        const uint32_t w = uint32_t(bytes[4 * i]) | (uint32_t(bytes[4 * i + 1]) << 8) |
                           (uint32_t(bytes[4 * i + 2]) << 16) | (uint32_t(bytes[4 * i + 3]) << 24);
        const uint32_t kind = w >> nc_tb::KIND_SHIFT;
        const uint32_t tick = (w >> nc_tb::TICK_SHIFT) & nc_tb::TICK_MASK;
        const uint32_t address = w & nc_tb::ADDR_MASK;
        if (kind == nc_tb::KIND_SPIKE) {
            if (tick != ticks.size()) return fail("a spike carries another tick than the one being read", i);
            if (address >= nc_tb::N_IN) return fail("a spike address is beyond the network's inputs", i);
            if (!current.empty() && address <= current.back()) return fail("spikes not in ascending channel order", i);
            current.push_back(address);
        } else if (kind == nc_tb::KIND_END_OF_TICK) {
            if (tick != ticks.size()) return fail("end-of-tick markers out of order", i);
            ticks.push_back(current);
            current.clear();
        } else if (kind == nc_tb::KIND_END_OF_EVENT) {
            if (!current.empty() || tick != ticks.size()) return fail("end of event does not close the ticks read", i);
            if (ticks.size() + nc_tb::N_LAYERS > nc_tb::TICK_MASK + 1) return fail("event too long for the output", i);
            run_event(ticks, address, out);
            ticks.clear();
            events++;
        } else {
            return fail("reserved kind 0b11 in an input stream", i);
        }
    }
    if (!ticks.empty() || !current.empty()) {
        return fail("the stream does not end with an end-of-event marker", bytes.size() / 4);
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
