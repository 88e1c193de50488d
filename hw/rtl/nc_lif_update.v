`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * One neuron's LIF update, exactly the integer rule of neurocal.golden._run_exact (lava-nc 0.10.0
 * PyLifModelBitAcc), in three pipeline stages:
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
 * (combinational from those registers, registered by the caller): the wrap, the sum, the clip and the
 * compare. The outputs belong to the inputs stage 1 took at its last edge with ce high, i.e. to what
 * stage 0 held then. A caller that raises ce_in and ce together (a plain two-register pipeline, ce a
 * pipeline enable) sees the outputs of the inputs taken two such edges back.
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
localparam signed [31:0] TWO_UV = 32'sd16777216;    // 2^24
localparam signed [31:0] V_MAX = 32'sd8388607;      // 2^23 - 1

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

always @(posedge clk) begin
    if (ce_in) begin
        a_0_reg <= a_in;
        u_0_reg <= u_in;
        v_0_reg <= v_in;
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
wire [11:0] ru = u_0_reg[U_W-1] ? 12'd4095 : 12'd0;
wire [11:0] rv = v_0_reg[23] ? 12'd4095 : 12'd0;
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

// current: int32 sum d = trunc0(u * cu / 4096) + a64 (wraps as numpy int32 does), then Lava's single
// correction
wire signed [31:0] d = pu_reg[43:12];
wire over = d > UV_LIMIT;
wire under = d <= -UV_LIMIT;
wire signed [31:0] u_new = over ? d - TWO_UV : (under ? d + TWO_UV : d);

// voltage: int32 sum vd = (trunc0(v * cv / 4096) + bias) + u', clip to +-(2^23 - 1), strict threshold
// compare (vth << 6 < 2^23 - 1, so comparing vd or its clipped value is the same), reset to zero
wire signed [31:0] vd = pv_reg[43:12] + u_new;
wire signed [31:0] v_clip = vd > V_MAX ? V_MAX : (vd < -V_MAX ? -V_MAX : vd);
wire signed [31:0] vth6 = {9'd0, vth_reg, 6'd0};
assign spike = spiking_reg && (vd > vth6);

assign u_out = u_new[U_W-1:0];
assign v_out = spike ? 24'sd0 : v_clip[23:0];
/* verilator lint_off UNUSEDSIGNAL */
wire [39:0] unused_bits = {pu_reg[47:44], pu_reg[11:0], pv_reg[47:44], pv_reg[11:0], v_clip[31:24]};
/* verilator lint_on UNUSEDSIGNAL */

endmodule

`resetall
