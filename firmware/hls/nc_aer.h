// neurocal AER stream top for the hls4ml network (hand-written; registered with hls4ml's register_source).
//
// nc::aer_event<CFG>(in, out) consumes ONE event of the input spike stream of neurocal/aer.py from
// `in` (32-bit words: spikes of a tick in ascending channel order, end of tick, ..., end of event) and
// writes its output stream to `out`: the output layer's spikes as (tick, neuron) words in ascending
// order, one readout-voltage word per output neuron, and the end-of-event word carrying the T + L output
// ticks and the input's event number. It is streaming: tick t runs as soon as its end-of-tick marker
// arrives (the network is causal), the L flush ticks run after the end of event; no event is buffered.
//
// CFG (generated per project, neurocal_aer_config.h) gives N_IN, N_LAYERS, N_OUT, the AER constants,
// the types of the hls4ml top's ports and tick(), which calls the hls4ml top once.
// A malformed word (an address beyond N_IN, the reserved kind) is dropped: the host validates streams
// (neurocal/aer.py, neurocal_tb.cpp) before they reach the hardware.

#ifndef NC_AER_H_
#define NC_AER_H_

#include "ap_int.h"
#include "hls_stream.h"

namespace nc {

typedef ap_uint<32> aer_word;

template <class CFG> inline aer_word aer_pack(unsigned kind, unsigned tick, unsigned address) {
    #pragma HLS INLINE
    aer_word w = 0;
    w(31, 30) = kind;
    w(29, 16) = tick & CFG::TICK_MASK;
    w(15, 0) = address & CFG::ADDR_MASK;
    return w;
}

// Run one tick of the network on `x` and emit the output layer's spikes of that tick.
template <class CFG>
void aer_tick(typename CFG::input_t x[CFG::N_IN], bool first, unsigned t, typename CFG::probe_t probe[3 * CFG::N_OUT],
              hls::stream<aer_word> &out) {
    typename CFG::flag_t first_tick[1];
    first_tick[0] = first ? 1 : 0;
    CFG::tick(x, first_tick, probe);
EmitSpikes:
    for (unsigned n = 0; n < CFG::N_OUT; n++) {
        if (probe[n] != 0) {
            out.write(aer_pack<CFG>(CFG::KIND_SPIKE, t, n));
        }
    }
}

template <class CFG> void aer_event(hls::stream<aer_word> &in, hls::stream<aer_word> &out) {
    typename CFG::input_t x[CFG::N_IN];
    typename CFG::probe_t probe[3 * CFG::N_OUT];
    #pragma HLS ARRAY_PARTITION variable=x complete
    #pragma HLS ARRAY_PARTITION variable=probe complete
ClearInput:
    for (unsigned i = 0; i < CFG::N_IN; i++) {
        x[i] = 0;
    }
    unsigned t = 0;
    unsigned event_number = 0;
Words:
    for (bool done = false; !done;) {
        const aer_word w = in.read();
        const unsigned kind = w(31, 30);
        const unsigned address = w(15, 0);
        if (kind == CFG::KIND_SPIKE) {
            if (address < CFG::N_IN) {
                x[address] = 1;
            }
        } else if (kind == CFG::KIND_END_OF_TICK) {
            aer_tick<CFG>(x, t == 0, t, probe, out);
            t++;
        ClearTick:
            for (unsigned i = 0; i < CFG::N_IN; i++) {
                x[i] = 0;
            }
        } else if (kind == CFG::KIND_END_OF_EVENT) {
            event_number = address;
            done = true;
        }
    }
Flush:  // the L ticks that carry the last input tick through every layer (silent input)
    for (unsigned l = 0; l < CFG::N_LAYERS; l++) {
        aer_tick<CFG>(x, t == 0, t, probe, out);
        t++;
    }
EmitVoltages:
    for (unsigned n = 0; n < CFG::N_OUT; n++) {
        aer_word w = 0;
        w(31, 30) = CFG::KIND_VOLTAGE;
        w(29, 24) = n & CFG::VOLTAGE_INDEX_MASK;
        w(23, 0) = probe[CFG::N_OUT + n](23, 0);  // v is clipped to 24 bits: its two's complement fits
        out.write(w);
    }
    out.write(aer_pack<CFG>(CFG::KIND_END_OF_EVENT, t, event_number));
}

} // namespace nc

#endif
