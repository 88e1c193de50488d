`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * One Dense -> LIF layer of the integer network, driven by spike rasters.
 *
 * Tokens (valid/ready, one per tick): {eoe, event[15:0], payload}. A tick token (eoe = 0) carries the
 * tick's spike raster, one bit per presynaptic neuron; the end-of-event token (eoe = 1) carries the
 * event number (and, from the output layer, the final voltages: payload = v[n] at [24n +: 24]).
 *
 * An event arrives as rasters 0..F-1 and an end-of-event token. The layer runs F ticks: tick k is
 * updated with the synaptic input of raster k-1 (zero for tick 0), then raster k is accumulated for
 * tick k+1; raster F-1 reaches no tick (Lava's Dense delays by one tick), so F stays T + L in every
 * layer. Output: F rasters of this layer's spikes, then the end-of-event token.
 *
 * Synapse, ROWS weight banks: input i lives in bank i mod ROWS at row i div ROWS. Each cycle every
 * bank takes the lowest pending spike of its slice of the raster and reads that input's weight word
 * (LANES 9-bit weights of group g, GROUPS = ceil(N_OUT / LANES)) into its read register (stage R); a
 * balanced adder tree (log2 ROWS levels, registered at its middle level: stage M) sums the ROWS words
 * into the tree register (stage T); the sum joins the LANES accumulators of group g (stage A). ROWS = N_IN is fully parallel.
 * a64 = int32((sum << weight_exp) << 6) as golden.synaptic_input and _run_layer compute it; the
 * accumulator keeps ACC_W bits, enough when ACC_W >= min(bits of the row bound, 26 - weight_exp) (for
 * weight_exp >= 0; 26 + |weight_exp| below): only those bits reach the int32.
 *
 * LIF: LIF_LANES two-stage nc_lif_update (stage 1: the DSP multiply-adds, registered; stage 2: wrap,
 * clip, compare, committed to u/v). A tick is STEPS = GROUPS * LANES / LIF_LANES steps, one issued per
 * cycle; step j updates neurons j*LIF_LANES .. j*LIF_LANES + LIF_LANES - 1. The accumulators are
 * triple-buffered: raster k goes to buffer k mod 3 while tick k is updated from buffer (k - 1) mod 3
 * (raster k-1's, once complete; zero for tick 0).
 *
 * State: the accumulators (3 * GROUPS words of LANES*ACC_W bits) and the currents and voltages (STEPS words
 * of LIF_LANES*(U_W+24) bits, word j = step j's neurons) are memories with one write port and asynchronous
 * reads (distributed RAM: a time-multiplexed layer pays LUT RAM, not flip-flops and wide multiplexers, and
 * the cycle rule is that of registers), each word with a live bit in a register: a word whose live bit is
 * clear reads as zero, so a consumed group or the whole state at the end of an event is cleared in one
 * cycle. A layer of one step keeps its u and v in a register; the output layer (EMIT_V) keeps a register
 * copy of its voltages, all of which its end-of-event token carries.
 *
 * Cycle rule (exact, for a free output: m_ready high whenever m_valid). Number the cycles; an input
 * token is taken in the cycle where s_valid && s_ready. For raster k of an event (k = 0..F-1):
 *   R_k    = GROUPS * max over banks b of (spikes of raster k in bank b)     (read cycles)
 *   take_k = first cycle >= the cycle raster k is offered (s_valid) with
 *              take_k >= take_{k-1} + max(R_{k-1}, 1)                        (k >= 1: reads done)
 *              take_k >= S_{k-2} + STEPS - 1                                 (k >= 2: its buffer free)
 *   D_k    = take_k + R_k + 4 if R_k > 0, else take_k + 1                    (buffer k complete)
 *   S_k    = max(take_k + 1, D_{k-1} (k >= 1), S_{k-1} + max(STEPS, 2) (k >= 1))
 *            (first step of tick k's update; steps S_k .. S_k + STEPS - 1)
 *   tick k's token is valid (m_valid) from cycle S_k + STEPS + 1.
 * The end-of-event token is taken in the first cycle E >= its offer with E >= S_{F-1} + STEPS + 1 and
 * E >= D_{F-1}; its token is valid from E + 1, and raster 0 of the next event may be taken at E + 1.
 * So a tick costs at least max(STEPS, 2, R_k) cycles (2: the u(t+1) = f(u(t)) recurrence through the two
 * stages), and the 4-cycle drain of a raster with reads can add to it when the update falls two ticks
 * behind the synapse (the rule above is exact; hw/costmodel.py implements it). With back-pressure (m_ready low while a tick's token waits) the
 * update pipeline stops while its last step of a tick cannot hand over its raster; the accumulation goes
 * on.

 * Memories ($readmemh, hex): W_FILE of bank b (ceil(N_IN / ROWS) * GROUPS words of LANES*9 bits: word
 * r * GROUPS + g holds input r * ROWS + b, lane k at [9k+8:9k] = neuron g*LANES + k); P_FILE per neuron
 * (GROUPS*LANES words) {du[12], dv[12], vth[17], bias[20]} at [60:49], [48:37], [36:20], [19:0]; C_FILE
 * one word {spiking, weight_exp[3:0]} (signed exponent). Files: MEM_PREFIX + "l<LAYER>_w<bank>.mem",
 * "l<LAYER>_p.mem", "l<LAYER>_c.mem" (LAYER 00..99, bank 000..999). Over the mem_* port a weight
 * word's address is bank << 20 | word.
 *
 * Memory reads (mem_re, while busy == 0): mem_rvalid pulses 3 cycles after mem_re (mem_re
 * sampled at edge 0, mem_rdata valid after edge 3, the tree's three registers), with the word zero-extended to MEM_W; one read per
 * cycle may be in flight. A weight read uses the bank's one read port (the bank then stays single-port
 * block RAM or one distributed RAM) and the adder tree, where the idle banks add zero. An address outside
 * the selected memory reads 0 and pulses mem_overflow with mem_re.
 */
module nc_lif_layer #
(
    // number of inputs (presynaptic neurons or input channels)
    parameter N_IN = 16,
    // number of neurons
    parameter N_OUT = 8,
    // weights added per bank per cycle: the accumulator lanes (neurons per accumulator group)
    parameter LANES = 8,
    // LIF updaters (nc_lif_update instances, 2 DSP48E1 each): neurons updated per cycle; divides LANES
    parameter LIF_LANES = LANES,
    // weight banks: input spikes whose weight rows are added in one cycle (1..N_IN)
    parameter ROWS = 4,
    // banks 0..BLOCK_BANKS-1 in block RAM, the others in distributed RAM (a synthesis attribute only)
    parameter BLOCK_BANKS = 0,
    // synaptic accumulator width (see above)
    parameter ACC_W = 32,
    // stored current width, 25..32
    parameter U_W = 32,
    // 1: the end-of-event token carries the final voltages (the output layer)
    parameter EMIT_V = 0,
    // index of the layer in the network (names its memory files)
    parameter LAYER = 0,
    // folder of the memory files, with a trailing slash
    parameter MEM_PREFIX = "./",
    // width of the memory write port (>= LANES*9 and >= 61)
    parameter MEM_W = 72,
    // 1: memories writable through the mem_* port; 0: read-only, the network is fixed at build time
    // (synthesis then folds the per-neuron parameters into the datapath: about half the LUTs)
    parameter WRITABLE = 1,
    // payload width of the output tokens: N_OUT, or 24 * N_OUT with EMIT_V (set by nc_top)
    parameter OUT_W = EMIT_V ? 24 * N_OUT : N_OUT
)
(
    input  wire        clk,
    input  wire        rst,

    input  wire [N_IN+16:0]  s_data,    // {eoe, event, raster}
    input  wire        s_valid,
    output wire        s_ready,

    output wire [OUT_W+16:0] m_data,    // {eoe, event, raster or voltages}
    output wire        m_valid,
    input  wire        m_ready,   // from a FIFO: must not depend on s_valid combinationally

    output wire        busy,

    // memory write port (AXI4-Lite loading; use while idle): kind 0 weights, 1 parameters, 2 config
    input  wire        mem_we,
    input  wire [1:0]  mem_kind,
    input  wire [31:0] mem_addr,
    input  wire [MEM_W-1:0] mem_data,
    output wire        mem_overflow,   // pulse: mem_we or mem_re outside the selected memory

    // memory read port (same kinds and addresses; use while idle): the word, zero-extended, 3 cycles
    // after mem_re, for one cycle; 0 outside the selected memory
    input  wire        mem_re,
    output wire [MEM_W-1:0] mem_rdata,
    output wire        mem_rvalid
);

localparam GROUPS = (N_OUT + LANES - 1) / LANES;
localparam N_PAD = GROUPS * LANES;
localparam GW = GROUPS > 1 ? $clog2(GROUPS) : 1;
localparam DEPTH = (N_IN + ROWS - 1) / ROWS;        // rows of a bank
localparam IN_PAD = DEPTH * ROWS;
localparam RW = DEPTH > 1 ? $clog2(DEPTH) : 1;
localparam BANK_WORDS = DEPTH * GROUPS;
localparam [31:0] G_LAST32 = GROUPS - 1;
localparam [GW-1:0] G_LAST = G_LAST32[GW-1:0];
localparam W_W = 9;
localparam P_W = 61;
localparam SUBS = LANES / LIF_LANES;                 // LIF steps per accumulator group
localparam STEPS = GROUPS * SUBS;                    // LIF steps per tick
localparam JW = STEPS > 1 ? $clog2(STEPS) : 1;
localparam [31:0] J_LAST32 = STEPS - 1;
localparam [JW-1:0] J_LAST = J_LAST32[JW-1:0];

// check configuration
initial begin
    if (N_IN < 1 || N_OUT < 1) begin
        $error("Error: N_IN and N_OUT must be at least 1 (instance %m)");
        $finish;
    end
    if (LANES < 1) begin
        $error("Error: LANES must be at least 1 (instance %m)");
        $finish;
    end
    if (LIF_LANES < 1 || LANES % LIF_LANES != 0) begin
        $error("Error: LIF_LANES must divide LANES (instance %m)");
        $finish;
    end
    if (ROWS < 1 || ROWS > N_IN || BLOCK_BANKS < 0 || BLOCK_BANKS > ROWS) begin
        $error("Error: ROWS must be 1..N_IN and BLOCK_BANKS 0..ROWS (instance %m)");
        $finish;
    end
    if (U_W < 25 || U_W > 32 || ACC_W < W_W || ACC_W > 48) begin
        $error("Error: U_W must be 25..32 and ACC_W 9..48 (instance %m)");
        $finish;
    end
    if (MEM_W < LANES * W_W || MEM_W < P_W) begin
        $error("Error: MEM_W must be at least LANES*9 and 61 (instance %m)");
        $finish;
    end
end

localparam [7:0] DIGIT_TENS = 8'd48 + LAYER / 10;
localparam [7:0] DIGIT_ONES = 8'd48 + LAYER % 10;
localparam P_FILE = {MEM_PREFIX, "l", DIGIT_TENS, DIGIT_ONES, "_p.mem"};
localparam C_FILE = {MEM_PREFIX, "l", DIGIT_TENS, DIGIT_ONES, "_c.mem"};

// ---------------------------------------------------------------- memories
reg [P_W-1:0] p_mem [0:N_PAD-1];
reg [4:0] c_mem [0:0];

initial begin
    $readmemh(P_FILE, p_mem);
    $readmemh(C_FILE, c_mem);
end

wire spiking = c_mem[0][4];
wire signed [3:0] weight_exp = c_mem[0][3:0];

// ---------------------------------------------------------------- state
reg [IN_PAD-1:0] pend_reg;        // spikes of the raster being accumulated, not yet read
reg [GW-1:0] a_g_reg;             // group being read
reg [1:0] a_b_reg;                // accumulator buffer the raster goes to
reg [1:0] a_b_next_reg;           // buffer of the next raster
wire [ROWS*LANES*W_W-1:0] w_rd;  // the words read last cycle, bank b at [b*LANES*9 +: LANES*9]; zero if none
reg rd_any_reg;                   // stage R: the read registers hold words of group rd_g, buffer rd_b
reg [GW-1:0] rd_g_reg;
reg [1:0] rd_b_reg;
reg md_any_reg;                   // stage M: the tree's middle level holds their partial sums
reg [GW-1:0] md_g_reg;
reg [1:0] md_b_reg;
reg tr_any_reg;                   // stage T: the tree register holds their sum, for group tr_g, buffer tr_b
reg [GW-1:0] tr_g_reg;
reg [1:0] tr_b_reg;

// The neuron state lives in distributed RAM (below: one write port, asynchronous reads, so no read latency
// and the cycle rule of registers) beside a live bit per word: a word whose live bit is clear reads as zero.
// Clearing live bits empties a buffer or the whole state in one cycle, which a RAM cannot do.
reg [3*GROUPS-1:0] acc_live_reg;  // accumulator word p*GROUPS + g (buffer p, group g) holds a sum
reg [STEPS-1:0] uv_live_reg;      // state word j (step j's u and v) holds this event's state
reg in_event_reg;

reg [1:0] todo_reg;               // ticks whose raster is taken and whose update has not started
reg upd_on_reg;                   // a tick's update is issuing steps upd_j_reg.. from buffer upd_b_reg
reg [JW-1:0] upd_j_reg;
reg [1:0] upd_b_reg;
reg [1:0] upd_b_next_reg;         // buffer of the next tick's update
reg s1_valid_reg;                 // stage 1 of the LIF update holds step s1_j_reg
reg [JW-1:0] s1_j_reg;
reg s1_last_reg;
reg [N_PAD-1:0] spk_vec_reg;      // spikes of the tick being updated, steps so far

reg [OUT_W+16:0] m_data_reg;
reg m_valid_reg;

// ---------------------------------------------------------------- control
wire s_eoe = s_data[N_IN+16];
wire [15:0] s_event = s_data[N_IN+15:N_IN];
wire out_free = !m_valid_reg || m_ready;
wire a_busy = pend_reg != 0;

// the LIF pipeline stops while its last step of a tick cannot hand over the tick's raster
wire stall = s1_valid_reg && s1_last_reg && !out_free;
// buffer b is complete when no read or add for it is in flight
wire [1:0] start_b = upd_b_next_reg;
wire start_drained = !(a_busy && a_b_reg == start_b) && !(rd_any_reg && rd_b_reg == start_b)
                     && !(md_any_reg && md_b_reg == start_b) && !(tr_any_reg && tr_b_reg == start_b);
// the next tick's update starts when its raster is taken, the previous tick has issued its steps, the
// buffer of the raster before it is complete, and (one step per tick) the previous step has left stage 1
wire upd_start = !upd_on_reg && todo_reg != 0 && start_drained && (STEPS > 1 || !s1_valid_reg) && !stall;
wire upd_issue = (upd_on_reg && !stall) || upd_start;
wire [JW-1:0] issue_j = upd_on_reg ? upd_j_reg : {JW{1'b0}};
wire [1:0] issue_b = upd_on_reg ? upd_b_reg : start_b;
wire issue_last = issue_j == J_LAST;
// ticks taken and not fully issued, after this cycle's last issue
wire [2:0] open_ticks = {1'b0, todo_reg} + {2'b0, upd_on_reg} - {2'b0, upd_issue && issue_last};

// a raster starts when the previous one is read (in the cycle of its last read) and its buffer has been
// read by the update two ticks back (raster k reuses raster k-3's buffer, which tick k-2 updates from)
wire a_free;
wire take_raster = s_valid && !s_eoe && a_free && open_ticks <= 1;
// the end of the event: everything drained and updated; the last raster's input is discarded, the state
// returns to zero
wire take_eoe = s_valid && s_eoe && !a_busy && !rd_any_reg && !md_any_reg && !tr_any_reg && todo_reg == 0
                && !upd_on_reg
                && !s1_valid_reg && out_free;
assign s_ready = take_raster || take_eoe;

// ---------------------------------------------------------------- synapse: banks and adder tree
wire [IN_PAD-1:0] clr;   // the spikes read this cycle
wire a_last = a_g_reg == G_LAST;
assign a_free = !a_busy || (a_last && (pend_reg & ~clr) == 0);
genvar b, r, k;
generate
    for (b = 0; b < ROWS; b = b + 1) begin : bank
        localparam [7:0] BANK_H = 8'd48 + b / 100;
        localparam [7:0] BANK_T = 8'd48 + (b / 10) % 10;
        localparam [7:0] BANK_O = 8'd48 + b % 10;
        localparam W_FILE = {MEM_PREFIX, "l", DIGIT_TENS, DIGIT_ONES, "_w", BANK_H, BANK_T, BANK_O, ".mem"};
        reg [LANES*W_W-1:0] rd_reg;
        assign w_rd[b*LANES*W_W +: LANES*W_W] = rd_reg;
        // this bank's slice of the raster and its lowest pending spike
        reg [RW-1:0] sel;
        wire [DEPTH-1:0] slice;
        for (r = 0; r < DEPTH; r = r + 1) begin : row
            assign slice[r] = pend_reg[r * ROWS + b];
            assign clr[r * ROWS + b] = a_last && sel == r && slice[r];
        end
        integer jc;  // loop variable of this combinational encoder (not shared between processes)
        always @* begin
            sel = 0;
            for (jc = DEPTH - 1; jc >= 0; jc = jc - 1) begin
                if (slice[jc]) sel = jc[RW-1:0];
            end
        end
        wire has = slice != 0;
        /* verilator lint_off UNUSEDSIGNAL */
        wire [31:0] rd_addr = {{(32-RW){1'b0}}, sel} * GROUPS + {{(32-GW){1'b0}}, a_g_reg};
        /* verilator lint_on UNUSEDSIGNAL */
        wire [31:0] mem_word = {12'd0, mem_addr[19:0]};
        wire mem_here = mem_kind == 2'd0 && mem_addr[31:20] == b && mem_word < BANK_WORDS;
        wire wr_en = WRITABLE != 0 && mem_we && mem_here;
        // a memory read (idle: no spike pending) shares the bank's one read port; the word goes through the
        // adder tree, where every other bank adds zero
        wire rd_en = has || (mem_re && mem_here);
        /* verilator lint_off UNUSEDSIGNAL */
        wire [31:0] rd_word = has ? rd_addr : mem_word;
        /* verilator lint_on UNUSEDSIGNAL */
        // a bank with nothing to read outputs zero: the read register's synchronous reset, free in the
        // flip-flop or block RAM, instead of an AND per weight bit in front of the adder tree. The two
        // branches differ only in the block RAM's ram_style attribute (yosys and Vivado read it; simulators
        // ignore it).
        if (b < BLOCK_BANKS) begin : block_ram
            (* ram_style = "block" *)
            reg [LANES*W_W-1:0] w_mem [0:BANK_WORDS-1];
            initial begin
                $readmemh(W_FILE, w_mem);
            end
            always @(posedge clk) begin
                if (rd_en) rd_reg <= w_mem[rd_word];
                else rd_reg <= {LANES*W_W{1'b0}};
                if (wr_en) w_mem[mem_word] <= mem_data[LANES*W_W-1:0];
                if (rst) rd_reg <= {LANES*W_W{1'b0}};
            end
        end else begin : distributed_ram
            // no attribute: the mapper takes distributed RAM for these shallow memories, and logic for a
            // read-only one (WRITABLE = 0), which yosys 0.23 refuses to map when told "distributed"
            reg [LANES*W_W-1:0] w_mem [0:BANK_WORDS-1];
            initial begin
                $readmemh(W_FILE, w_mem);
            end
            always @(posedge clk) begin
                if (rd_en) rd_reg <= w_mem[rd_word];
                else rd_reg <= {LANES*W_W{1'b0}};
                if (wr_en) w_mem[mem_word] <= mem_data[LANES*W_W-1:0];
                if (rst) rd_reg <= {LANES*W_W{1'b0}};
            end
        end
    end
endgenerate

// stage A: the accumulator lanes of the group whose sum is in the tree register, plus that sum
/* verilator lint_off UNUSEDSIGNAL */
wire [31:0] tr_idx = {30'd0, tr_b_reg} * GROUPS + {{(32-GW){1'b0}}, tr_g_reg};
/* verilator lint_on UNUSEDSIGNAL */
wire [LANES*ACC_W-1:0] acc_rd;   // the group's accumulators (state memories, below)
wire [LANES*ACC_W-1:0] acc_sum;
wire [LANES*W_W-1:0] tree_word;
// a balanced adder tree per lane (log2 ROWS levels), heap order: node n adds nodes 2n+1 and 2n+2,
// the TP leaves are the banks' words. A node LEVEL levels above the
// leaves holds the exact sum of 2^LEVEL 9-bit weights, so its adder is only min(ACC_W, 9 + LEVEL) bits
// wide (the bits above are sign copies): ~30 % fewer adder bits than ACC_W-wide nodes for 32 banks.
localparam LOG_TP = $clog2(ROWS);
localparam TP = 1 << LOG_TP;
localparam TRW = W_W + LOG_TP < ACC_W ? W_W + LOG_TP : ACC_W;   // the root's width
localparam MID_LEVEL = (LOG_TP + 1) / 2;   // the tree level registered in stage M (0: the leaves)
genvar m;
generate
    for (k = 0; k < LANES; k = k + 1) begin : adder
        // one net per node (an array would be one signal to Verilator: a false combinational loop); block
        // tree[m] holds node n = 2 TP - 2 - m, so that children are declared before their parent (yosys)
        for (m = 0; m < 2 * TP - 1; m = m + 1) begin : tree
            localparam N = 2 * TP - 2 - m;
            // floor(log2(N + 1)) is the node's depth below the root
            localparam LEVEL = LOG_TP - ($clog2(N + 2) - 1);
            localparam NW = W_W + LEVEL < ACC_W ? W_W + LEVEL : ACC_W;
            /* verilator lint_off UNUSEDSIGNAL */
            wire [ACC_W-1:0] node;   // a parent reads only its own width of it
            /* verilator lint_on UNUSEDSIGNAL */
            wire [NW-1:0] val;       // the node's exact sum
            if (N >= TP - 1) begin : leaf
                if (N - (TP - 1) < ROWS) begin : bank_word
                    assign val = w_rd[((N - (TP - 1)) * LANES + k) * W_W +: W_W];
                end else begin : no_bank
                    assign val = {NW{1'b0}};
                end
            end else begin : add
                // children 2N+1 and 2N+2 live in blocks 2 TP - 3 - 2N and 2 TP - 4 - 2N
                assign val = tree[2*TP-3-2*N].node[NW-1:0] + tree[2*TP-4-2*N].node[NW-1:0];
            end
            // stage M: the nodes of level MID_LEVEL are registered (half the tree's carry chains each side)
            wire [NW-1:0] out;
            if (LEVEL == MID_LEVEL) begin : mid
                reg [NW-1:0] mid_reg;
                always @(posedge clk) begin
                    mid_reg <= val;
                end
                assign out = mid_reg;
            end else begin : comb
                assign out = val;
            end
            if (NW < ACC_W) begin : extend
                assign node = {{(ACC_W-NW){out[NW-1]}}, out};
            end else begin : full
                assign node = out;
            end
        end
        // stage T: the tree's sum, registered at the root's width (the sum of TP 9-bit words)
        reg [TRW-1:0] sum_reg;
        always @(posedge clk) begin
            sum_reg <= tree[2*TP-2].node[TRW-1:0];
        end
        if (TRW < ACC_W) begin : extend
            assign acc_sum[k*ACC_W +: ACC_W] = acc_rd[k*ACC_W +: ACC_W] + {{(ACC_W-TRW){sum_reg[TRW-1]}}, sum_reg};
        end else begin : full
            assign acc_sum[k*ACC_W +: ACC_W] = acc_rd[k*ACC_W +: ACC_W] + sum_reg;
        end
        // a memory read's word: the one bank read adds to zeros (its 9-bit weights, sign-extended)
        assign tree_word[k*W_W +: W_W] = sum_reg[W_W-1:0];
    end
endgenerate

// ---------------------------------------------------------------- LIF update: step issue_j, then stage 1
// step j updates neurons j*LIF_LANES .. j*LIF_LANES + LIF_LANES - 1: sub-group j mod SUBS of accumulator
// group j div SUBS
/* verilator lint_off UNUSEDSIGNAL */
wire [31:0] issue_g = {{(32-JW){1'b0}}, issue_j} / SUBS;
wire [31:0] issue_s = {{(32-JW){1'b0}}, issue_j} - issue_g * SUBS;
wire [31:0] issue_idx = {30'd0, issue_b} * GROUPS + issue_g;
/* verilator lint_on UNUSEDSIGNAL */
wire issue_clear = issue_s == SUBS - 1;   // the group's last step: its accumulators are consumed
wire [LANES*ACC_W-1:0] acc_grp;  // the issued group's accumulators, and the step's u and v (state memories)
wire [LIF_LANES*ACC_W-1:0] acc_g = acc_grp[issue_s * LIF_LANES * ACC_W +: LIF_LANES * ACC_W];
wire [LIF_LANES*U_W-1:0] u_g;
wire [LIF_LANES*24-1:0] v_g;
wire [LIF_LANES*U_W-1:0] u_new;
wire [LIF_LANES*24-1:0] v_new;
wire [LIF_LANES-1:0] spk_new;

generate
    for (k = 0; k < LIF_LANES; k = k + 1) begin : lane
        // held at zero outside issues: an event-driven simulator (Icarus) then leaves the datapath
        // alone between ticks; in hardware it is one AND per bit
        wire signed [ACC_W-1:0] acc = upd_issue ? acc_g[k*ACC_W +: ACC_W] : {ACC_W{1'b0}};
        wire signed [47:0] wide = {{(48-ACC_W){acc[ACC_W-1]}}, acc};
        /* verilator lint_off UNUSEDSIGNAL */
        wire signed [47:0] shifted = weight_exp[3] ? wide >>> (-weight_exp) : wide <<< weight_exp;
        /* verilator lint_on UNUSEDSIGNAL */
        wire [P_W-1:0] par = p_mem[issue_j * LIF_LANES + k];
        nc_lif_update #(
            .U_W(U_W)
        ) lif (
            .clk(clk),
            .ce(upd_issue),
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

// stage 2 (the commit): the tick's raster with step s1_j's neurons replaced by their spikes (padding
// neurons masked)
wire [N_PAD-1:0] spikes_low, lane_real;
generate
    for (k = 0; k < N_PAD; k = k + 1) begin : place
        if (k < LIF_LANES) begin : lane
            assign spikes_low[k] = spk_new[k];
        end else begin : pad
            assign spikes_low[k] = 1'b0;
        end
        assign lane_real[k] = k < N_OUT;
    end
endgenerate
wire [N_PAD-1:0] step_mask = {N_PAD{1'b1}} >> (N_PAD - LIF_LANES) << (s1_j_reg * LIF_LANES);
wire [N_PAD-1:0] spk_vec_upd = ((spk_vec_reg & ~step_mask) | (spikes_low << (s1_j_reg * LIF_LANES))) & lane_real;
wire commit = s1_valid_reg && !stall;

// ---------------------------------------------------------------- neuron state memories
// Distributed RAM, one write port and asynchronous reads (a read the cycle its address is known, as from
// registers: the cycle rule does not change); a word whose live bit is clear reads as zero.
// Accumulators, word p*GROUPS + g: stage A reads and writes word tr_idx, the LIF step reads issue_idx.
reg [LANES*ACC_W-1:0] acc_mem [0:3*GROUPS-1];
always @(posedge clk) begin
    if (tr_any_reg) acc_mem[tr_idx] <= acc_sum;
end
assign acc_rd = acc_live_reg[tr_idx] ? acc_mem[tr_idx] : {LANES*ACC_W{1'b0}};
assign acc_grp = acc_live_reg[issue_idx] ? acc_mem[issue_idx] : {LANES*ACC_W{1'b0}};
// current and voltage of step j's neurons, {v, u}: the issue of step j reads word j, its commit writes it
localparam UV_W = LIF_LANES * (U_W + 24);
wire [UV_W-1:0] uv_rd;
generate
    if (STEPS > 1) begin : uv_ram
        reg [UV_W-1:0] uv_mem [0:STEPS-1];
        always @(posedge clk) begin
            if (commit) uv_mem[s1_j_reg] <= {v_new, u_new};
        end
        assign uv_rd = uv_live_reg[issue_j] ? uv_mem[issue_j] : {UV_W{1'b0}};
    end else begin : uv_flops
        // one step per tick: one word, a register
        reg [UV_W-1:0] uv_reg;
        always @(posedge clk) begin
            if (commit) uv_reg <= {v_new, u_new};
        end
        assign uv_rd = uv_live_reg[0] ? uv_reg : {UV_W{1'b0}};
    end
endgenerate
assign u_g = uv_rd[LIF_LANES*U_W-1:0];
assign v_g = uv_rd[UV_W-1:LIF_LANES*U_W];

// all final voltages, neuron n at [24n +: 24] (the output layer's end-of-event payload)
/* verilator lint_off UNUSEDSIGNAL */
wire [N_PAD*24-1:0] v_all;   // unused below the output layer
/* verilator lint_on UNUSEDSIGNAL */
generate
    if (EMIT_V != 0) begin : v_copy
        // the output layer also keeps its voltages in registers, all readable at once
        for (k = 0; k < STEPS; k = k + 1) begin : step
            reg [LIF_LANES*24-1:0] v_reg;
            always @(posedge clk) begin
                if (commit && s1_j_reg == k) v_reg <= v_new;
            end
            assign v_all[k*LIF_LANES*24 +: LIF_LANES*24] = uv_live_reg[k] ? v_reg : {LIF_LANES*24{1'b0}};
        end
    end else begin : no_v_copy
        assign v_all = {N_PAD*24{1'b0}};
    end
endgenerate
wire [OUT_W-1:0] eoe_payload;
wire [OUT_W-1:0] tick_payload;
generate
    if (EMIT_V != 0) begin : with_v
        assign eoe_payload = v_all[OUT_W-1:0];
        assign tick_payload = {{(OUT_W-N_OUT){1'b0}}, spk_vec_upd[N_OUT-1:0]};
    end else begin : no_v
        assign eoe_payload = {OUT_W{1'b0}};
        assign tick_payload = spk_vec_upd[N_OUT-1:0];
    end
endgenerate

// ---------------------------------------------------------------- memory writes
wire mem_in_range = (mem_kind == 2'd0 && {20'd0, mem_addr[31:20]} < ROWS && {12'd0, mem_addr[19:0]} < BANK_WORDS)
                    || (mem_kind == 2'd1 && mem_addr < N_PAD) || (mem_kind == 2'd2 && mem_addr == 0);
assign mem_overflow = (mem_we && (!mem_in_range || WRITABLE == 0)) || (mem_re && !mem_in_range);
wire [MEM_W-1:0] unused_mem_data = mem_data;

generate
    if (WRITABLE) begin : writable
        always @(posedge clk) begin
            if (mem_we && mem_in_range) begin
                case (mem_kind)
                    2'd1: p_mem[mem_addr] <= mem_data[P_W-1:0];
                    2'd2: c_mem[0] <= mem_data[4:0];
                    default: ;  // weights: in the banks
                endcase
            end
        end
    end
endgenerate

// ---------------------------------------------------------------- memory reads
// edge 1: the bank's read register (weights), or the parameter/config word; edge 2: the tree's middle
// registers; edge 3: the tree register (weights), the other words delayed alike; mem_rdata selects
reg mem_re_reg, mem_re2_reg;
reg [1:0] mem_kind_reg;
reg [P_W-1:0] p_rd_reg;
reg [4:0] c_rd_reg;
reg mem_weight2_reg;
reg [P_W-1:0] mem_word2_reg;
reg mem_rvalid_reg;
reg mem_weight_reg;
reg [P_W-1:0] mem_word_reg;
reg [MEM_W-1:0] mem_rdata_mux;
assign mem_rdata = mem_rdata_mux;
assign mem_rvalid = mem_rvalid_reg;

always @* begin
    mem_rdata_mux = {MEM_W{1'b0}};
    if (mem_weight_reg) mem_rdata_mux[LANES*W_W-1:0] = tree_word;
    else mem_rdata_mux[P_W-1:0] = mem_word_reg;
end

always @(posedge clk) begin
    mem_re_reg <= mem_re;
    mem_kind_reg <= mem_kind;
    p_rd_reg <= mem_re && mem_kind == 2'd1 && mem_addr < N_PAD ? p_mem[mem_addr] : {P_W{1'b0}};
    c_rd_reg <= mem_re && mem_kind == 2'd2 && mem_addr == 0 ? c_mem[0] : 5'd0;
    mem_re2_reg <= mem_re_reg;
    mem_weight2_reg <= mem_kind_reg == 2'd0;
    mem_word2_reg <= p_rd_reg | {{(P_W-5){1'b0}}, c_rd_reg};   // at most one is non-zero
    mem_rvalid_reg <= mem_re2_reg;
    mem_weight_reg <= mem_weight2_reg;
    mem_word_reg <= mem_word2_reg;
    if (rst) begin
        mem_re_reg <= 1'b0;
        mem_re2_reg <= 1'b0;
        mem_rvalid_reg <= 1'b0;
    end
end

// ---------------------------------------------------------------- outputs
assign m_data = m_data_reg;
assign m_valid = m_valid_reg;
assign busy = in_event_reg || a_busy || rd_any_reg || md_any_reg || tr_any_reg || todo_reg != 0 || upd_on_reg
              || s1_valid_reg || m_valid_reg;

always @(posedge clk) begin
    if (m_ready) m_valid_reg <= 1'b0;

    // synapse: banks read group a_g of their lowest pending spike (stage R), the tree adds the words
    // (stages M and T), the sum joins the accumulators (stage A); after the last group, the spikes are
    // cleared
    rd_any_reg <= a_busy;
    rd_g_reg <= a_g_reg;
    rd_b_reg <= a_b_reg;
    md_any_reg <= rd_any_reg;
    md_g_reg <= rd_g_reg;
    md_b_reg <= rd_b_reg;
    tr_any_reg <= md_any_reg;
    tr_g_reg <= md_g_reg;
    tr_b_reg <= md_b_reg;
    if (a_busy) begin
        a_g_reg <= a_last ? {GW{1'b0}} : a_g_reg + 1'b1;
        if (a_last) pend_reg <= pend_reg & ~clr;
    end
    if (tr_any_reg) begin
        acc_live_reg[tr_idx] <= 1'b1;
    end

    // LIF: issue a step (stage 1 takes its operands; the group's last step clears its accumulators, which
    // no add can target: the buffer is complete), commit the step in stage 1 (stage 2); after the tick's
    // last step its raster leaves
    if (upd_issue) begin
        if (issue_clear) acc_live_reg[issue_idx] <= 1'b0;
        upd_on_reg <= !issue_last;
        upd_j_reg <= issue_j + 1'b1;
        upd_b_reg <= issue_b;
    end
    if (upd_start) begin
        upd_b_next_reg <= upd_b_next_reg == 2'd2 ? 2'd0 : upd_b_next_reg + 1'b1;
    end
    todo_reg <= todo_reg + {1'b0, take_raster} - {1'b0, upd_start};
    if (!stall) begin
        s1_valid_reg <= upd_issue;
        s1_j_reg <= issue_j;
        s1_last_reg <= issue_last;
    end
    if (commit) begin
        uv_live_reg[s1_j_reg] <= 1'b1;
        spk_vec_reg <= spk_vec_upd;
        if (s1_last_reg) begin
            m_data_reg <= {1'b0, 16'd0, tick_payload};
            m_valid_reg <= 1'b1;
        end
    end

    if (take_raster) begin
        pend_reg <= {{(IN_PAD-N_IN){1'b0}}, s_data[N_IN-1:0]};
        a_g_reg <= 0;
        a_b_reg <= a_b_next_reg;
        a_b_next_reg <= a_b_next_reg == 2'd2 ? 2'd0 : a_b_next_reg + 1'b1;
        in_event_reg <= 1'b1;
    end

    // end of event: the end-of-event token (with the voltages), then zero state for the next event:
    // raster 0 goes to buffer 0, tick 0 updates from buffer 2 (zero)
    if (take_eoe) begin
        m_data_reg <= {1'b1, s_event, eoe_payload};
        m_valid_reg <= 1'b1;
        in_event_reg <= 1'b0;
    end
    if (take_eoe || rst) begin
        a_b_next_reg <= 2'd0;
        upd_b_next_reg <= 2'd2;
        acc_live_reg <= {3*GROUPS{1'b0}};
        uv_live_reg <= {STEPS{1'b0}};
    end

    if (rst) begin
        pend_reg <= 0;
        a_g_reg <= 0;
        a_b_reg <= 2'd0;
        rd_any_reg <= 1'b0;
        md_any_reg <= 1'b0;
        tr_any_reg <= 1'b0;
        in_event_reg <= 1'b0;
        todo_reg <= 2'd0;
        upd_on_reg <= 1'b0;
        upd_j_reg <= 0;
        upd_b_reg <= 2'd0;
        s1_valid_reg <= 1'b0;
        spk_vec_reg <= 0;
        m_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
