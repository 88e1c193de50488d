`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * One neuron's LIF update, exactly the integer rule of DESIGN §2 (neurocal.golden._run_exact,
 * i.e. lava-nc 0.10.0 PyLifModelBitAcc), combinational:
 *
 *   d  = trunc0(u * (4095 - du) / 4096) + a64               (int32, wraps)
 *   u' = d > 2^23 ? d - 2^24 : (d <= -2^23 ? d + 2^24 : d)  (Lava's single correction)
 *   vd = trunc0(v * (4096 - dv) / 4096) + u' + bias         (int32)
 *   v  = clip(vd, -(2^23 - 1), 2^23 - 1)
 *   spike = spiking && v > vth << 6;  v' = spike ? 0 : v
 *
 * trunc0 rounds toward zero: for a negative product p, trunc0(p / 4096) = (p + 4095) >>> 12.
 * a64 is the synaptic input already shifted (int32(a << 6)); the caller owns the synapse.
 * u' needs 32 bits in general (one correction leaves |u'| up to ~2^31 when |a64| is large);
 * U_W narrower than 32 is exact only when the static bound of |u| fits it.
 */
module nc_lif_update #
(
    // width of the stored current u (two's complement), 25..32; 32 holds every reachable value
    parameter U_W = 32
)
(
    input  wire signed [31:0]    a_in,     // int32(a << 6), the shifted synaptic input
    input  wire signed [U_W-1:0] u_in,     // current before the tick
    input  wire signed [23:0]    v_in,     // voltage before the tick (always within +-(2^23 - 1))
    input  wire        [11:0]    du,       // current decay, 0..4095
    input  wire        [11:0]    dv,       // voltage decay, 0..4095
    input  wire        [16:0]    vth,      // threshold mantissa; the threshold is vth << 6
    input  wire signed [19:0]    bias,     // bias_mant << bias_exp (13-bit mantissa, exponent 0..7)
    input  wire                  spiking,  // 0: membrane readout, never fires
    output wire signed [U_W-1:0] u_out,    // current after the tick
    output wire signed [23:0]    v_out,    // voltage after the tick (0 after a spike)
    output wire                  spike     // the neuron fired this tick
);

localparam signed [31:0] UV_LIMIT = 32'sd8388608;   // 2^23
localparam signed [31:0] TWO_UV = 32'sd16777216;    // 2^24
localparam signed [31:0] V_MAX = 32'sd8388607;      // 2^23 - 1

// decay factors as non-negative signed operands: cu = 4095 - du in 0..4095, cv = 4096 - dv in 1..4096
wire signed [13:0] cu = {2'b00, 12'd4095 - du};
wire signed [13:0] cv = {1'b0, 13'd4096 - {1'b0, dv}};

// One multiply-add per product (a DSP48E1 with its post-adder can take it whole): the rounding and the
// next operand ride in the same sum, because adding a multiple of 4096 commutes with the floor shift:
//   trunc0(p / 4096) + x = floor((p + r + 4096 x) / 4096),  r = (p < 0 ? 4095 : 0),
// and the product's sign is the state's (cu >= 0, cv >= 1; a zero product rounds to zero with either r).
// Bits [43:12] of the 48-bit sum are that value mod 2^32, i.e. the int32 sum with its wrap:
// |u * cu| < 2^43 and |4096 x| < 2^44, so nothing above bit 47 is lost.
wire [11:0] ru = u_in[U_W-1] ? 12'd4095 : 12'd0;
wire [11:0] rv = v_in[23] ? 12'd4095 : 12'd0;
wire signed [47:0] au = {{4{a_in[31]}}, a_in, ru};
/* verilator lint_off UNUSEDSIGNAL */
wire signed [47:0] pu_sum = u_in * cu + au;
/* verilator lint_on UNUSEDSIGNAL */

// current: int32 sum d = trunc0(u * cu / 4096) + a64 (wraps as numpy int32 does), then Lava's single
// correction
wire signed [31:0] d = pu_sum[43:12];
wire over = d > UV_LIMIT;
wire under = d <= -UV_LIMIT;
wire signed [31:0] u_new = over ? d - TWO_UV : (under ? d + TWO_UV : d);

// voltage: int32 sum vd = trunc0(v * cv / 4096) + u' + bias, clip to +-(2^23 - 1), strict threshold
// compare, reset to zero
wire signed [31:0] ub = u_new + {{12{bias[19]}}, bias};
wire signed [47:0] av = {{4{ub[31]}}, ub, rv};
/* verilator lint_off UNUSEDSIGNAL */
wire signed [47:0] pv_sum = v_in * cv + av;
/* verilator lint_on UNUSEDSIGNAL */
wire signed [31:0] vd = pv_sum[43:12];
wire signed [31:0] v_clip = vd > V_MAX ? V_MAX : (vd < -V_MAX ? -V_MAX : vd);
wire signed [31:0] vth6 = {9'd0, vth, 6'd0};
assign spike = spiking && (v_clip > vth6);

assign u_out = u_new[U_W-1:0];
assign v_out = spike ? 24'sd0 : v_clip[23:0];

endmodule

`resetall
