`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * One neuron's LIF update, exactly the integer rule of neurocal.golden._run_exact (lava-nc 0.10.0
 * PyLifModelBitAcc), in four pipeline stages:
 *
 *   d  = trunc0(u * (4095 - du) / 4096) + a64               (int32, wraps)
 *   u' = d > 2^23 ? d - 2^24 : (d <= -2^23 ? d + 2^24 : d)  (Lava's single correction)
 *   vd = trunc0(v * (4096 - dv) / 4096) + u' + bias         (int32)
 *   v  = clip(vd, -(2^23 - 1), 2^23 - 1)
 *   spike = spiking && v > vth << 6;  v' = spike ? 0 : v
 *
 * Stage 0 (registered at the clock edge where ce_in is high): the inputs, with the decay factors
 * cu = 4095 - du and cv = 4096 - dv already formed, so that every DSP48E1 operand comes from a register
 * (the A/B/C input registers, which synthesis may pack into the DSP). Stage 1 (registered at the edge
 * where ce is high, from stage 0): the two multiply-adds, each one DSP48E1 with its P register. Stage 2
 * (registered where ce is high): the wrap of u (u'), and s = trunc0(v * cv / 4096) + bias + d, so that
 * vd = s + (u' - d) changes only s's top byte (u' - d is 0 or -+2^24). Stage 3 (combinational from stage
 * 2, registered by the caller): vd's top byte, the clip and the threshold compare, which with
 * 0 <= vth << 6 < 2^23 need only that byte and a 24-bit compare of s's low bits (below). Each stage holds
 * at most one carry chain of 32 bits. The outputs belong to what stage 2 took at its last edge with ce
 * high. A caller that raises ce_in and ce together (a plain pipeline, ce its enable) sees the outputs of
 * the inputs taken three such edges back.
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
    input  wire                  clk,
    input  wire                  ce_in,    // stage 0 takes the inputs at this edge
    input  wire                  ce,       // stage 1 takes stage 0 at this edge

    input  wire signed [31:0]    a_in,     // int32(a << 6), the shifted synaptic input
    input  wire signed [U_W-1:0] u_in,     // current before the tick
    input  wire signed [23:0]    v_in,     // voltage before the tick (always within +-(2^23 - 1))
    input  wire        [11:0]    du,       // current decay, 0..4095
    input  wire        [11:0]    dv,       // voltage decay, 0..4095
    input  wire        [16:0]    vth,      // threshold mantissa; the threshold is vth << 6
    input  wire signed [19:0]    bias,     // bias_mant << bias_exp (13-bit mantissa, exponent 0..7)
    input  wire                  spiking,  // 0: membrane readout, never fires

    output wire signed [U_W-1:0] u_out,    // current after the tick (of what stage 1 took at the last ce)
    output wire signed [23:0]    v_out,    // voltage after the tick (0 after a spike)
    output wire                  spike     // the neuron fired this tick
);

localparam signed [31:0] UV_LIMIT = 32'sd8388608;   // 2^23
localparam signed [31:0] V_MAX = 32'sd8388607;      // 2^23 - 1
localparam signed [31:0] NEG_V_MAX = -32'sd8388607;

// check configuration
initial begin
    if (U_W < 25 || U_W > 32) begin
        $error("Error: U_W must be 25..32 (instance %m)");
        $finish;
    end
end

// decay factors as non-negative signed operands: cu = 4095 - du in 0..4095, cv = 4096 - dv in 1..4096
wire signed [13:0] cu = {2'b00, 12'd4095 - du};
wire signed [13:0] cv = {1'b0, 13'd4096 - {1'b0, dv}};

// stage 0: the operands, registered
reg signed [31:0] a_0_reg;
reg signed [U_W-1:0] u_0_reg;
reg signed [23:0] v_0_reg;
reg signed [13:0] cu_0_reg;
reg signed [13:0] cv_0_reg;
reg [16:0] vth_0_reg;
reg signed [19:0] bias_0_reg;
reg spiking_0_reg;
// copies of u's and v's sign bits for the rounding terms of the C inputs (kept apart, so that u_0_reg and
// v_0_reg feed only the multipliers and synthesis may pack them into the DSP48E1 A registers)
(* keep *) reg u_sign_0_reg;
(* keep *) reg v_sign_0_reg;

always @(posedge clk) begin
    if (ce_in) begin
        a_0_reg <= a_in;
        u_0_reg <= u_in;
        v_0_reg <= v_in;
        u_sign_0_reg <= u_in[U_W-1];
        v_sign_0_reg <= v_in[23];
        cu_0_reg <= cu;
        cv_0_reg <= cv;
        vth_0_reg <= vth;
        bias_0_reg <= bias;
        spiking_0_reg <= spiking;
    end
end

// One multiply-add per product (a DSP48E1 with its post-adder takes it whole): the rounding and the
// next operand ride in the same sum, because adding a multiple of 4096 commutes with the floor shift:
//   trunc0(p / 4096) + x = floor((p + r + 4096 x) / 4096),  r = (p < 0 ? 4095 : 0),
// and the product's sign is the state's (cu >= 0, cv >= 1; a zero product rounds to zero with either r).
// Bits [43:12] of the 48-bit sum are that value mod 2^32, i.e. the int32 sum with its wrap:
// |u * cu| < 2^43 and |4096 x| < 2^44, so nothing above bit 47 is lost.
// The voltage's x is the bias (known in stage 1); u' joins it in stage 2: vd is an int32 sum, so the
// order of its terms does not matter mod 2^32.
wire [11:0] ru = u_sign_0_reg ? 12'd4095 : 12'd0;
wire [11:0] rv = v_sign_0_reg ? 12'd4095 : 12'd0;
wire signed [47:0] au = {{4{a_0_reg[31]}}, a_0_reg, ru};
wire signed [47:0] av = {{16{bias_0_reg[19]}}, bias_0_reg, rv};

reg signed [47:0] pu_reg;
reg signed [47:0] pv_reg;
reg [16:0] vth_reg;
reg spiking_reg;

always @(posedge clk) begin
    if (ce) begin
        pu_reg <= u_0_reg * cu_0_reg + au;
        pv_reg <= v_0_reg * cv_0_reg + av;
        vth_reg <= vth_0_reg;
        spiking_reg <= spiking_0_reg;
    end
end

// stage 2. current: int32 sum d = trunc0(u * cu / 4096) + a64 (wraps as numpy int32 does), then Lava's single
// correction, which adds -1, +1 or 0 to the top byte; voltage: the int32 sum s of the other terms
wire signed [31:0] d = pu_reg[43:12];
wire over = d > UV_LIMIT;
wire under = d <= -UV_LIMIT;
wire [7:0] corr = over ? 8'hFF : (under ? 8'h01 : 8'h00);   // (u' - d) >> 24, mod 2^8
/* verilator lint_off UNUSEDSIGNAL */
wire [31:0] u_new = {d[31:24] + corr, d[23:0]};               // u', of which U_W bits are kept
/* verilator lint_on UNUSEDSIGNAL */

reg [U_W-1:0] u_2_reg;
reg [31:0] s_2_reg;
reg [7:0] corr_2_reg;
reg [16:0] vth_2_reg;
reg spiking_2_reg;

always @(posedge clk) begin
    if (ce) begin
        u_2_reg <= u_new[U_W-1:0];
        s_2_reg <= pv_reg[43:12] + d;
        corr_2_reg <= corr;
        vth_2_reg <= vth_reg;
        spiking_2_reg <= spiking_reg;
    end
end

// stage 3. voltage: int32 sum vd = (trunc0(v * cv / 4096) + bias) + u' = {hi, lo} with hi its top byte (signed)
// and lo = s[23:0] (unsigned), i.e. vd = 2^24 hi + lo. Clip to +-(2^23 - 1) and a strict threshold compare
// (comparing vd or its clipped value is the same, as vth << 6 < 2^23 - 1), then reset to zero:
//   hi >= 1: vd >= 2^24: above the clip and the threshold;  hi <= -2: vd < -2^24: below the clip;
//   hi == 0: vd = lo: clipped at 2^23 - 1 when lo[23], fires when lo > vth << 6;
//   hi == -1: vd = lo - 2^24: clipped at -(2^23 - 1) when lo <= 2^23; never fires.
wire [7:0] hi = s_2_reg[31:24] + corr_2_reg;
wire [23:0] lo = s_2_reg[23:0];
wire hi_zero = hi == 8'h00;
wire hi_m1 = hi == 8'hFF;
wire hi_pos = !hi[7] && !hi_zero;
wire hi_neg2 = hi[7] && !hi_m1;
wire lo_gt = lo > {1'b0, vth_2_reg, 6'd0};
wire clip_hi = hi_pos || (hi_zero && lo[23]);
wire clip_lo = hi_neg2 || (hi_m1 && (!lo[23] || lo[22:0] == 23'd0));
wire [23:0] v_clip = clip_hi ? V_MAX[23:0] : (clip_lo ? NEG_V_MAX[23:0] : lo);
assign spike = spiking_2_reg && (hi_pos || (hi_zero && lo_gt));

assign u_out = u_2_reg;
assign v_out = spike ? 24'sd0 : v_clip;
/* verilator lint_off UNUSEDSIGNAL */
wire [31:0] unused_bits = {pu_reg[47:44], pu_reg[11:0], pv_reg[47:44], pv_reg[11:0]};
/* verilator lint_on UNUSEDSIGNAL */

endmodule

`resetall
