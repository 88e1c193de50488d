// neurocal LIF core for hls4ml (hand-written source, registered with hls4ml's extension API).
//
// One call of the hls4ml top function is one tick. Each Dense -> LIF layer pair of the
// integer network (neurocal/intnet.py, DESIGN section 2) becomes hls4ml's own nnet::dense,
// which sums the integer weights of the inputs that spiked in this tick, followed by
// nc::lif below, which keeps the neuron state across calls:
//
//   a    = wrap32(wrap32(sum << weight_exp) << 6)    (>> floors for a negative weight_exp)
//          taken from the PREVIOUS call (Lava's Dense delivers one tick late); 0 on the first tick
//   u    = lava_wrap(wrap32(trunc0(u * (4095 - du) / 4096) + a))
//   v    = clip(wrap32(wrap32(trunc0(v * (4096 - dv) / 4096) + u) + bias), +-(2^23 - 1))
//   fire = spiking && v > vth << 6;  then v = 0
//
// trunc0(x) = sign(x) * (|x| >> 12) on the exact product; wrap32 is int32 two's-complement
// wrap-around, as numpy/Lava compute it; lava_wrap is Lava's single correction:
// d > 2^23 -> d - 2^24, then (looking at that result) <= -2^23 -> d + 2^24.
// first_tick[0] != 0 clears u, v and the delayed input before the tick is computed: every
// event starts from zero state. The executable specification is neurocal/golden.py::_run_exact.

#ifndef NC_LIF_H_
#define NC_LIF_H_

#include "ap_int.h"

namespace nc {

typedef ap_int<32> i32;  // the contract's arithmetic is int32 with wrap-around

static const int UV_LIMIT = 1 << 23;     // u, v are signed 24-bit on Loihi
static const int V_MAX = (1 << 23) - 1;  // v clips to +-V_MAX
static const int ACT_SHIFT = 6;          // synaptic input and threshold are MSB-aligned by 6 bits

struct lif_config {
    static const unsigned n_out = 1;   // neurons in the layer
    static const int weight_exp = 0;   // the Dense sum is multiplied by 2^weight_exp (floor if < 0)
    static const bool spiking = true;  // false: membrane readout that never fires
    typedef ap_int<32> a_t;            // synaptic input a << 6 (static width from intnet, <= 32)
    typedef ap_int<32> u_t;            // current register and its sum before the wrap (static width, <= 32)
    typedef ap_int<24> v_t;            // voltage register (|v| <= 2^23 - 1 after the clip)
    typedef ap_int<32> v_sum_t;        // voltage sum before the clip (static width, <= 32)
    typedef ap_uint<12> du_t;
    typedef ap_uint<12> dv_t;
    typedef ap_uint<17> vth_t;
    typedef ap_int<21> bias_t;         // bias_mant << bias_exp (13 + 7 bits)
};

// trunc0(x * factor / 4096): the exact product, truncated toward zero (Lava: sign * (|p| >> 12)).
// The product is formed in a native 64-bit integer (|x * factor| < 2^44): ap_int multiplies wider than
// 32 bits go through multi-word arithmetic in C-simulation, which is slow; HLS trims the widths anyway.
template <int W> inline ap_int<W> trunc_decay(ap_int<W> x, ap_uint<13> factor) {
    #pragma HLS INLINE
    const long long p = x.to_int64() * (long long)factor.to_uint();
    const long long q = (p < 0) ? -((-p) >> 12) : (p >> 12);
    return ap_int<W>(q);  // |q| <= |x| (factor <= 4096): no bits lost
}

// The Dense sum of one tick shifted into the LIF input: wrap32(wrap32(sum * 2^e) << 6), in a_t: 32 bits
// where the static bound of |a << 6| reaches 2^31 (then it wraps as int32), else just wide enough.
template <class data_T, class a_T, int E> inline a_T synaptic_input(data_T sum) {
    #pragma HLS INLINE
    const long long s = sum.to_int64();  // |sum| < 2^31, E in -8..7: no overflow below
    const long long shifted = (E >= 0) ? s * (1LL << (E >= 0 ? E : 0)) : (s >> (E < 0 ? -E : 0));  // >> floors
    const i32 a = i32(shifted);  // Lava's channel is int32: keep the low 32 bits
    ap_int<32 + ACT_SHIFT> a6 = a;
    a6 <<= ACT_SHIFT;
    return a_T(i32(a6));  // numpy's int32 << 6 drops the high bits; a_T holds every value the bound allows
}

template <class data_T, class flag_T, class spike_T, class probe_T, typename CONFIG_T>
void lif(data_T sum[CONFIG_T::n_out], flag_T first_tick[1], spike_T spikes[CONFIG_T::n_out],
         probe_T probe[3 * CONFIG_T::n_out], typename CONFIG_T::du_t du[CONFIG_T::n_out],
         typename CONFIG_T::dv_t dv[CONFIG_T::n_out], typename CONFIG_T::vth_t vth[CONFIG_T::n_out],
         typename CONFIG_T::bias_t bias[CONFIG_T::n_out]) {
    // State kept between calls (one call = one tick). One instance per layer: CONFIG_T is unique.
    static data_T delayed[CONFIG_T::n_out];  // this layer's Dense sum of the previous tick
    static typename CONFIG_T::u_t u[CONFIG_T::n_out];
    static typename CONFIG_T::v_t v[CONFIG_T::n_out];
    #pragma HLS ARRAY_PARTITION variable=delayed complete
    #pragma HLS ARRAY_PARTITION variable=u complete
    #pragma HLS ARRAY_PARTITION variable=v complete
    #pragma HLS ARRAY_PARTITION variable=du complete
    #pragma HLS ARRAY_PARTITION variable=dv complete
    #pragma HLS ARRAY_PARTITION variable=vth complete
    #pragma HLS ARRAY_PARTITION variable=bias complete
    #pragma HLS INLINE off

    const bool clear = first_tick[0] != 0;
Neurons:
    for (unsigned i = 0; i < CONFIG_T::n_out; i++) {
        #pragma HLS UNROLL
        // Sums are held in their static widths (intnet static_widths): 32 bits, wrapping like int32, where
        // the bound reaches 2^31; narrower where it cannot, which computes the same integers.
        typedef typename CONFIG_T::a_t a_t;
        typedef typename CONFIG_T::u_t u_t;
        typedef typename CONFIG_T::v_t v_t;
        typedef typename CONFIG_T::v_sum_t v_sum_t;
        const a_t a = clear ? a_t(0) : synaptic_input<data_T, a_t, CONFIG_T::weight_exp>(delayed[i]);
        const u_t u_old = clear ? u_t(0) : u[i];
        const v_t v_old = clear ? v_t(0) : v[i];

        // current: decay, add the input (int32 wrap), then Lava's single-correction wrap
        const u_t d = u_t(trunc_decay(u_old, ap_uint<13>(4095 - du[i])) + a);
        const u_t w = (d > UV_LIMIT) ? u_t(d - 2 * UV_LIMIT) : d;
        const u_t u_new = (w <= -UV_LIMIT) ? u_t(d + 2 * UV_LIMIT) : w;

        // voltage: decay, add current and bias (int32 wraps, left to right), clip to 24 bits
        v_sum_t vd = v_sum_t(trunc_decay(v_old, ap_uint<13>(4096 - dv[i])) + u_new);
        vd = v_sum_t(vd + bias[i]);
        v_t v_new = (vd > V_MAX) ? v_t(V_MAX) : (vd < -V_MAX) ? v_t(-V_MAX) : v_t(vd);

        const i32 threshold = i32(vth[i]) << ACT_SHIFT;  // vth < 2^17: no bit is lost
        const bool fire = CONFIG_T::spiking && v_new > threshold;
        if (fire) {
            v_new = 0;
        }

        u[i] = u_new;
        v[i] = v_new;
        delayed[i] = sum[i];  // delivered to the neuron on the next tick
        spikes[i] = fire;
        probe[i] = fire;
        probe[CONFIG_T::n_out + i] = v_new;
        probe[2 * CONFIG_T::n_out + i] = u_new;
    }
}

} // namespace nc

#endif
