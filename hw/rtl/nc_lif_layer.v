`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * One Dense -> LIF layer of the integer network (DESIGN §2), event driven.
 *
 * Tokens in and out are 32-bit words in the AER layout of neurocal/aer.py:
 *   [31:30] = 00 spike ([29:16] tick, [15:0] neuron), 01 end of tick ([29:16] tick),
 *             10 end of event ([29:16] ticks, [15:0] event number),
 *             11 voltage (output only: [29:24] neuron mod 64, [23:0] final v, two's complement).
 *
 * An event arrives as frames 0..F-1 (a frame = one tick's spikes closed by its end-of-tick word)
 * and an end-of-event word. The layer runs F ticks (tick 0 with no input; tick k+1 with the
 * synaptic input of frame k) and emits its own frames 0..F-1 and the end-of-event word; the
 * last input frame reaches no tick (Lava's Dense delays by one tick), so F stays T + L in every
 * layer. The tick that frame k feeds is started when the next word is visible ("peek"): if that
 * word ends the event, frame k is discarded instead.
 *
 * Synapse: each input spike adds one weight row, LANES neurons per cycle, from a weight memory of
 * LANES 9-bit weights per word (word i * GROUPS + g: inputs i, neurons g*LANES .. g*LANES+LANES-1).
 * a64 = int32((sum << weight_exp) << 6) as golden.synaptic_input and _run_layer compute it; the
 * accumulator keeps ACC_W bits, enough when ACC_W >= min(bits of the row bound, 26 - weight_exp)
 * (for weight_exp >= 0; 26 + |weight_exp| below), because only those bits reach the int32.
 *
 * LIF: LANES nc_lif_update per cycle over GROUPS = ceil(N_OUT / LANES) groups. Cycles per tick:
 * GROUPS (update) + spikes_in * GROUPS (synapse) + 1 (end-of-tick word); with GROUPS = 1 the
 * update overlaps the first word of the next frame. The spikes of a tick leave through an
 * emitter (one word per cycle) while the next frame accumulates.
 *
 * Memories ($readmemh, hex): W_FILE weights (N_IN * GROUPS words of LANES*9 bits, lane k at
 * [9k+8:9k]); P_FILE per neuron (GROUPS*LANES words) {du[12], dv[12], vth[17], bias[20]} at
 * [60:49], [48:37], [36:20], [19:0]; C_FILE one word {spiking, weight_exp[3:0]} (signed exponent).
 * The files are named MEM_PREFIX + "l<LAYER>_w.mem" / "_p.mem" / "_c.mem" (LAYER 0..99).
 */
module nc_lif_layer #
(
    // number of inputs (presynaptic neurons or input channels)
    parameter N_IN = 16,
    // number of neurons
    parameter N_OUT = 8,
    // neurons updated, and weights added, per cycle
    parameter LANES = 8,
    // synaptic accumulator width (see above)
    parameter ACC_W = 32,
    // stored current width, 25..32
    parameter U_W = 32,
    // 1: after the last tick emit one voltage word per neuron (the output layer)
    parameter EMIT_V = 0,
    // index of the layer in the network (names its memory files)
    parameter LAYER = 0,
    // folder of the memory files, with a trailing slash
    parameter MEM_PREFIX = "./",
    // width of the memory write port (>= LANES*9 and >= 61)
    parameter MEM_W = 64,
    // 1: memories writable through the mem_* port; 0: read-only, the network is fixed at build time
    // (synthesis then folds the per-neuron parameters into the datapath: about half the LUTs)
    parameter WRITABLE = 1
)
(
    input  wire        clk,
    input  wire        rst,

    input  wire [31:0] s_data,
    input  wire        s_valid,
    output wire        s_ready,

    output wire [31:0] m_data,
    output wire        m_valid,
    input  wire        m_ready,   // from a FIFO: must not depend on s_valid combinationally

    output wire        busy,

    // memory write port (AXI4-Lite loading; use while idle): kind 0 weights, 1 parameters, 2 config
    input  wire        mem_we,
    input  wire [1:0]  mem_kind,
    input  wire [31:0] mem_addr,
    input  wire [MEM_W-1:0] mem_data,
    output wire        mem_overflow    // pulse: mem_we outside the selected memory
);

localparam GROUPS = (N_OUT + LANES - 1) / LANES;
localparam N_PAD = GROUPS * LANES;
localparam GW = GROUPS > 1 ? $clog2(GROUPS) : 1;
localparam W_DEPTH = N_IN * GROUPS;
localparam NW = N_PAD > 1 ? $clog2(N_PAD) : 1;
localparam [31:0] G_LAST32 = GROUPS - 1;
localparam [31:0] N_LAST32 = N_OUT - 1;
localparam [GW-1:0] G_LAST = G_LAST32[GW-1:0];
localparam [15:0] N_LAST = N_LAST32[15:0];
localparam W_W = 9;
localparam P_W = 61;

localparam [7:0] DIGIT_TENS = 8'd48 + LAYER / 10;
localparam [7:0] DIGIT_ONES = 8'd48 + LAYER % 10;
localparam W_FILE = {MEM_PREFIX, "l", DIGIT_TENS, DIGIT_ONES, "_w.mem"};
localparam P_FILE = {MEM_PREFIX, "l", DIGIT_TENS, DIGIT_ONES, "_p.mem"};
localparam C_FILE = {MEM_PREFIX, "l", DIGIT_TENS, DIGIT_ONES, "_c.mem"};

localparam [1:0] KIND_SPIKE = 2'b00, KIND_EOT = 2'b01, KIND_EOE = 2'b10, KIND_V = 2'b11;
localparam [2:0] S_IDLE = 3'd0, S_ACC = 3'd1, S_PEEK = 3'd2, S_UPD = 3'd3, S_FIN = 3'd4;

// ---------------------------------------------------------------- memories
reg [LANES*W_W-1:0] w_mem [0:W_DEPTH-1];
reg [P_W-1:0] p_mem [0:N_PAD-1];
reg [4:0] c_mem [0:0];

initial begin
    $readmemh(W_FILE, w_mem);
    $readmemh(P_FILE, p_mem);
    $readmemh(C_FILE, c_mem);
end

wire spiking = c_mem[0][4];
wire signed [3:0] weight_exp = c_mem[0][3:0];

// ---------------------------------------------------------------- state
reg [2:0] state_reg, state_next;
reg [LANES*ACC_W-1:0] acc_reg [0:GROUPS-1];
reg [LANES*U_W-1:0] u_reg [0:GROUPS-1];
reg [LANES*24-1:0] v_reg [0:GROUPS-1];
reg [13:0] tick_reg;          // ticks run in this event (= index of the next one)
reg [15:0] event_reg;
reg [GW-1:0] acc_g_reg;       // group of the current input spike
reg [GW-1:0] upd_g_reg;       // group being updated in S_UPD
reg rd_valid_reg;             // a weight word arrives this cycle
reg [GW-1:0] rd_g_reg;
reg [LANES*W_W-1:0] w_rd_reg;

reg [N_PAD-1:0] emit_vec_reg; // spikes of the tick being emitted
reg [13:0] emit_tick_reg;
reg emit_busy_reg;
reg [31:0] m_data_reg;
reg m_valid_reg;
reg [15:0] fin_n_reg;         // neuron of the voltage word being sent in S_FIN
reg [GW-1:0] fin_g_reg;       // its group
reg [31:0] fin_k_reg;         // its lane
reg fin_v_done_reg;

integer j;   // loop variable of the clocked block
integer jc;  // loop variable of the combinational priority encoder (not shared between processes)

// ---------------------------------------------------------------- emitter
reg [NW-1:0] emit_idx;
always @* begin
    emit_idx = 0;
    if (emit_vec_reg != 0) begin  // most ticks: no spike (and a cheaper simulation)
        for (jc = N_PAD - 1; jc >= 0; jc = jc - 1) begin
            if (emit_vec_reg[jc]) emit_idx = jc[NW-1:0];
        end
    end
end
wire emit_any = |emit_vec_reg;
wire out_free = !m_valid_reg || m_ready;
wire emit_fire = emit_busy_reg && out_free;
wire emit_last = emit_fire && !emit_any;
wire emit_ready = !emit_busy_reg || emit_last;

// ---------------------------------------------------------------- input decode and control
wire [1:0] in_kind = s_data[31:30];
wire [15:0] in_addr = s_data[15:0];

wire upd_start = s_valid && emit_ready
                 && (state_reg == S_IDLE || (state_reg == S_PEEK && in_kind != KIND_EOE));
wire upd_active = upd_start || state_reg == S_UPD;
wire [GW-1:0] upd_g = state_reg == S_UPD ? upd_g_reg : {GW{1'b0}};
wire upd_last = upd_g == G_LAST;

// with one group the update and the first word of the next frame share a cycle
wire acc_active = state_reg == S_ACC || (GROUPS == 1 && upd_start);
wire acc_spike = acc_active && s_valid && in_kind == KIND_SPIKE;
wire acc_eot = acc_active && s_valid && in_kind == KIND_EOT;
wire acc_end = acc_active && s_valid && in_kind == KIND_EOE;
wire acc_drop = acc_active && s_valid && in_kind == KIND_V;
wire peek_end = state_reg == S_PEEK && s_valid && in_kind == KIND_EOE;
wire acc_spike_done = acc_spike && acc_g_reg == G_LAST;

assign s_ready = acc_spike_done || acc_eot || acc_end || acc_drop || peek_end;

// S_FIN: after the last frame has left, the voltages (EMIT_V), then the end-of-event word
wire fin_go = state_reg == S_FIN && !emit_busy_reg && out_free;
wire fin_eoe = fin_go && (fin_v_done_reg || EMIT_V == 0);

always @* begin
    state_next = state_reg;
    if (upd_start) state_next = GROUPS == 1 ? S_ACC : S_UPD;
    if (state_reg == S_UPD && upd_last) state_next = S_ACC;
    if (acc_eot) state_next = S_PEEK;
    if (acc_end || peek_end) state_next = S_FIN;
    if (fin_eoe) state_next = S_IDLE;
end

// ---------------------------------------------------------------- synapse: a64 of each lane
wire [LANES*ACC_W-1:0] acc_g = acc_reg[upd_g];
wire [LANES*U_W-1:0] u_g = u_reg[upd_g];
wire [LANES*24-1:0] v_g = v_reg[upd_g];
wire [LANES*U_W-1:0] u_new;
wire [LANES*24-1:0] v_new;
wire [LANES-1:0] spk_new;

genvar k;
generate
    for (k = 0; k < LANES; k = k + 1) begin : lane
        // held at zero outside updates: an event-driven simulator (Icarus) then leaves the datapath
        // alone while spikes accumulate; in hardware it is one AND per bit
        wire signed [ACC_W-1:0] acc = upd_active ? acc_g[k*ACC_W +: ACC_W] : {ACC_W{1'b0}};
        wire signed [47:0] wide = {{(48-ACC_W){acc[ACC_W-1]}}, acc};
        /* verilator lint_off UNUSEDSIGNAL */
        wire signed [47:0] shifted = weight_exp[3] ? wide >>> (-weight_exp) : wide <<< weight_exp;
        /* verilator lint_on UNUSEDSIGNAL */
        wire [P_W-1:0] par = p_mem[upd_g * LANES + k];
        nc_lif_update #(
            .U_W(U_W)
        ) lif (
            .a_in({shifted[25:0], 6'd0}),
            .u_in(u_g[k*U_W +: U_W]),
            .v_in(v_g[k*24 +: 24]),
            .du(par[60:49]),
            .dv(par[48:37]),
            .vth(par[36:20]),
            .bias(par[19:0]),
            .spiking(spiking),
            .u_out(u_new[k*U_W +: U_W]),
            .v_out(v_new[k*24 +: 24]),
            .spike(spk_new[k])
        );
    end
endgenerate

// the accumulator lanes of the group whose weights arrive this cycle (constant lane offsets: a
// generate loop, not a procedural one, keeps Verilator's model cheap)
wire [LANES*ACC_W-1:0] acc_rd = acc_reg[rd_g_reg];
wire [LANES*ACC_W-1:0] acc_sum;
generate
    for (k = 0; k < LANES; k = k + 1) begin : adder
        assign acc_sum[k*ACC_W +: ACC_W] = acc_rd[k*ACC_W +: ACC_W]
            + {{(ACC_W-W_W){w_rd_reg[k*W_W+W_W-1]}}, w_rd_reg[k*W_W +: W_W]};
    end
endgenerate

// the emitter's vector with group upd_g replaced by this update's spikes (padding neurons masked)
wire [N_PAD-1:0] spikes_low, lane_real;
generate
    for (k = 0; k < N_PAD; k = k + 1) begin : place
        if (k < LANES) begin : lane
            assign spikes_low[k] = spk_new[k];
        end else begin : pad
            assign spikes_low[k] = 1'b0;
        end
        assign lane_real[k] = k < N_OUT;
    end
endgenerate
wire [N_PAD-1:0] group_mask = {N_PAD{1'b1}} >> (N_PAD - LANES) << (upd_g * LANES);
wire [N_PAD-1:0] emit_vec_upd = ((emit_vec_reg & ~group_mask) | (spikes_low << (upd_g * LANES))) & lane_real;

// ---------------------------------------------------------------- memory writes
wire mem_in_range = (mem_kind == 2'd0 && mem_addr < W_DEPTH) || (mem_kind == 2'd1 && mem_addr < N_PAD)
                    || (mem_kind == 2'd2 && mem_addr == 0);
assign mem_overflow = mem_we && (!mem_in_range || WRITABLE == 0);
wire [MEM_W-1:0] unused_mem_data = mem_data;

generate
    if (WRITABLE) begin : writable
        always @(posedge clk) begin
            if (mem_we && mem_in_range) begin
                case (mem_kind)
                    2'd0: w_mem[mem_addr] <= mem_data[LANES*W_W-1:0];
                    2'd1: p_mem[mem_addr] <= mem_data[P_W-1:0];
                    default: c_mem[0] <= mem_data[4:0];
                endcase
            end
        end
    end
endgenerate

// ---------------------------------------------------------------- outputs
wire [LANES*24-1:0] v_fin_g = v_reg[fin_g_reg];
wire [23:0] v_fin = v_fin_g[fin_k_reg*24 +: 24];

// the tick field of input words is not needed: the layer counts its own ticks
wire [13:0] unused_in_tick = s_data[29:16];

assign m_data = m_data_reg;
assign m_valid = m_valid_reg;
assign busy = state_reg != S_IDLE || emit_busy_reg || m_valid_reg;

always @(posedge clk) begin
    state_reg <= state_next;
    rd_valid_reg <= 1'b0;
    if (m_ready) m_valid_reg <= 1'b0;

    // synapse: read the weight word of (input, group), add it one cycle later
    if (acc_spike) begin
        w_rd_reg <= w_mem[in_addr * GROUPS + {{(32-GW){1'b0}}, acc_g_reg}];
        rd_valid_reg <= 1'b1;
        rd_g_reg <= acc_g_reg;
        acc_g_reg <= acc_spike_done ? {GW{1'b0}} : acc_g_reg + 1'b1;
    end
    if (rd_valid_reg) begin
        acc_reg[rd_g_reg] <= acc_sum;
    end

    // LIF update of one group; its spikes go to the emitter
    if (upd_active) begin
        u_reg[upd_g] <= u_new;
        v_reg[upd_g] <= v_new;
        acc_reg[upd_g] <= 0;
        emit_vec_reg <= emit_vec_upd;
        if (upd_last) emit_busy_reg <= 1'b1;
        upd_g_reg <= upd_last ? {GW{1'b0}} : upd_g + 1'b1;
    end
    if (upd_start) begin
        emit_tick_reg <= tick_reg;
        tick_reg <= tick_reg + 1;
    end

    // emitter: spike words in ascending neuron order, then the end-of-tick word
    if (emit_fire) begin
        m_valid_reg <= 1'b1;
        if (emit_any) begin
            m_data_reg <= {KIND_SPIKE, emit_tick_reg, {(16-NW){1'b0}}, emit_idx};
            emit_vec_reg[emit_idx] <= 1'b0;
        end else begin
            m_data_reg <= {KIND_EOT, emit_tick_reg, 16'd0};
            if (!upd_active || !upd_last) emit_busy_reg <= 1'b0;
        end
    end

    if (acc_end || peek_end) begin
        event_reg <= in_addr;
    end

    // end of event: voltages, end-of-event word, then zero state for the next event
    if (fin_go) begin
        m_valid_reg <= 1'b1;
        if (fin_eoe) begin
            m_data_reg <= {KIND_EOE, tick_reg, event_reg};
            tick_reg <= 0;
            fin_n_reg <= 0;
            fin_g_reg <= 0;
            fin_k_reg <= 0;
            fin_v_done_reg <= 1'b0;
            for (j = 0; j < GROUPS; j = j + 1) begin
                acc_reg[j] <= 0;
                u_reg[j] <= 0;
                v_reg[j] <= 0;
            end
        end else begin
            m_data_reg <= {KIND_V, fin_n_reg[5:0], v_fin};
            fin_n_reg <= fin_n_reg + 1'b1;
            fin_v_done_reg <= fin_n_reg == N_LAST;
            if (fin_k_reg == LANES - 1) begin
                fin_k_reg <= 0;
                fin_g_reg <= fin_g_reg + 1'b1;
            end else begin
                fin_k_reg <= fin_k_reg + 1;
            end
        end
    end

    if (rst) begin
        state_reg <= S_IDLE;
        tick_reg <= 0;
        acc_g_reg <= 0;
        upd_g_reg <= 0;
        emit_vec_reg <= 0;
        emit_busy_reg <= 1'b0;
        m_valid_reg <= 1'b0;
        fin_n_reg <= 0;
        fin_g_reg <= 0;
        fin_k_reg <= 0;
        fin_v_done_reg <= 1'b0;
        rd_valid_reg <= 1'b0;
        for (j = 0; j < GROUPS; j = j + 1) begin
            acc_reg[j] <= 0;
            u_reg[j] <= 0;
            v_reg[j] <= 0;
        end
    end
end

endmodule

`resetall
