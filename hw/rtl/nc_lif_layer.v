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
 * bank takes the lowest pending spike of its slice of the raster and registers the address of that
 * input's weight word (stage S), then reads the word (LANES 9-bit weights of group g,
 * GROUPS = ceil(N_OUT / LANES)) into its read register (stage R); a
 * balanced adder tree (log2 ROWS levels, registered at its middle level: stage M) sums the ROWS words
 * into the tree register (stage T); the sum joins the LANES accumulators of group g (stage A). ROWS = N_IN is fully parallel.
 * a64 = int32((sum << weight_exp) << 6) as golden.synaptic_input and _run_layer compute it; the
 * accumulator keeps ACC_W bits, enough when ACC_W >= min(bits of the row bound, 26 - weight_exp) (for
 * weight_exp >= 0; 26 + |weight_exp| below): only those bits reach the int32.
 *
 * LIF: LIF_LANES four-stage nc_lif_update (stage 0: the operands, registered at the issue; stage 1: the
 * DSP multiply-adds, registered; stage 2: the wrap of u and the voltage sum, registered; stage 3: clip and
 * compare, committed to u/v). A tick is
 * STEPS = GROUPS * LANES / LIF_LANES steps, one issued per cycle; step j updates neurons
 * j*LIF_LANES .. j*LIF_LANES + LIF_LANES - 1. The issue's selects (accumulator index, sub-group, last step)
 * are counters, not arithmetic on j, so the path into stage 0 is the accumulator and state multiplexers and
 * the weight-exponent shift only. The accumulators are triple-buffered: raster k goes to buffer k mod 3
 * while tick k is updated from buffer (k - 1) mod 3 (raster k-1's, once complete; zero for tick 0).
 *
 * State: the accumulators (3 * GROUPS words of LANES*ACC_W bits) and the currents and voltages (STEPS words
 * of LIF_LANES*(U_W+24) bits, word j = step j's neurons). A layer of fewer than STATE_RAM_MIN = 16 steps per
 * tick keeps them in registers, zeroed word by word at the end of an event. A deeper layer (time-multiplexed
 * LIF updaters) keeps each in a memory with one write port and asynchronous reads (distributed RAM: LUT RAM
 * instead of flip-flops and wide read multiplexers; no read latency, so the cycle rule is that of
 * registers), each word with a live bit in a register: a word whose live bit is clear reads as zero, so a
 * consumed group or the whole state at the end of an event is cleared in one cycle. Why a threshold: at 2-4
 * words a RAM32M word plus its live-bit gating cost as many LUTs as a register and its multiplexer and sat on
 * the step-index -> DSP path (benchmarks/results/2026-12-05-lifram.md); the resource model's calibration
 * builds (up to 10 steps) were measured with registers; at 24 steps RAM pays. The output layer (EMIT_V) with
 * its state in RAM keeps a register copy of its voltages for the end-of-event token.
 *
 * Cycle rule (exact, for a free output: m_ready high whenever m_valid). Number the cycles; an input
 * token is taken in the cycle where s_valid && s_ready. For raster k of an event (k = 0..F-1):
 *   R_k    = GROUPS * max over banks b of (spikes of raster k in bank b)     (read cycles)
 *   take_k = first cycle >= the cycle raster k is offered (s_valid) with
 *              take_k >= take_{k-1} + max(R_{k-1}, 1)                        (k >= 1: reads done)
 *              take_k >= S_{k-2} + STEPS - 1                                 (k >= 2: its buffer free)
 *   D_k    = take_k + R_k + 5 if R_k > 0, else take_k + 1                    (buffer k complete)
 *   S_k    = max(take_k + 1, D_{k-1} (k >= 1), S_{k-1} + max(STEPS, 4) (k >= 1))
 *            (first step of tick k's update; steps S_k .. S_k + STEPS - 1)
 *   tick k's token is valid (m_valid) from cycle S_k + STEPS + 3.
 * The end-of-event token is taken in the first cycle E >= its offer with E >= S_{F-1} + STEPS + 3 and
 * E >= D_{F-1}; its token is valid from E + 1, and raster 0 of the next event may be taken at E + 1.
 * So a tick costs at least max(STEPS, 4, R_k) cycles (4: the u(t+1) = f(u(t)) recurrence through the four
 * stages: a step's state is read at its issue and written back three cycles later), and the 5-cycle drain of a raster with reads can add to it when the update falls two ticks
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
localparam SW = SUBS > 1 ? $clog2(SUBS) : 1;
localparam [31:0] S_LAST32 = SUBS - 1;
localparam [SW-1:0] S_LAST = S_LAST32[SW-1:0];
localparam IW = $clog2(3 * GROUPS);                  // accumulator index: buffer p, group g at p*GROUPS + g
localparam [31:0] BASE1_32 = GROUPS;
localparam [31:0] BASE2_32 = 2 * GROUPS;
localparam [IW-1:0] BASE1 = BASE1_32[IW-1:0];        // first index of buffer 1
localparam [IW-1:0] BASE2 = BASE2_32[IW-1:0];        // first index of buffer 2
localparam STATE_RAM_MIN = 16;                       // a layer of this many steps or more keeps its state in RAM
localparam STATE_RAM = STEPS >= STATE_RAM_MIN;       // accumulators, u and v in RAM (else registers)

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
reg [IW-1:0] a_idx_reg;           // accumulator index of group a_g in buffer a_b (a counter: no multiply)
reg [IW-1:0] a_base_reg;          // index of group 0 in buffer a_b
reg [IW-1:0] a_base_next_reg;     // index of group 0 in buffer a_b_next
wire [ROWS*LANES*W_W-1:0] w_rd;  // the words read last cycle, bank b at [b*LANES*9 +: LANES*9]; zero if none
reg sa_any_reg;                   // stage S: the banks' address registers hold reads for accumulator sa_idx
reg [IW-1:0] sa_idx_reg;
reg [1:0] sa_b_reg;
reg rd_any_reg;                   // stage R: the read registers hold words of accumulator rd_idx, buffer rd_b
reg [IW-1:0] rd_idx_reg;
reg [1:0] rd_b_reg;
reg md_any_reg;                   // stage M: the tree's middle level holds their partial sums
reg [IW-1:0] md_idx_reg;
reg [1:0] md_b_reg;
reg tr_any_reg;                   // stage T: the tree register holds their sum, for accumulator tr_idx, buffer tr_b
reg [IW-1:0] tr_idx_reg;
reg [1:0] tr_b_reg;

reg in_event_reg;

reg [1:0] todo_reg;               // ticks whose raster is taken and whose update has not started
reg upd_on_reg;                   // a tick's update is issuing steps upd_j_reg.. from buffer upd_b_reg
reg [JW-1:0] upd_j_reg;
reg [1:0] upd_b_reg;
reg [1:0] upd_b_next_reg;         // buffer of the next tick's update
// the next step's selects, counted rather than computed (no divide, modulo or multiply before the DSPs):
reg [IW-1:0] upd_idx_reg;         // its accumulator index, upd_b * GROUPS + j div SUBS
reg [SW-1:0] upd_s_reg;           // its sub-group, j mod SUBS
reg upd_clear_reg;                // j mod SUBS == SUBS - 1: its group's last step
reg upd_last_reg;                 // j == STEPS - 1: the tick's last step
reg [IW-1:0] start_idx_reg;       // upd_b_next * GROUPS: the first step's accumulator index
reg s0_valid_reg;                 // stage 0 of the LIF update (its operand registers) holds step s0_j_reg
reg [JW-1:0] s0_j_reg;
reg s0_first_reg;                 // ... the tick's first step (j = 0)
reg s0_last_reg;
reg s1_valid_reg;                 // stage 1 of the LIF update holds step s1_j_reg
reg [JW-1:0] s1_j_reg;
reg s1_first_reg;
reg s1_last_reg;
reg s2_valid_reg;                 // stage 2 holds step s2_j_reg (stage 3 commits it)
reg [JW-1:0] s2_j_reg;
reg s2_first_reg;
reg s2_last_reg;
/* verilator lint_off UNUSEDSIGNAL */
reg [N_PAD-1:0] spk_vec_reg;      // spikes of the tick being updated, steps so far (padding bits: zero, unread)
/* verilator lint_on UNUSEDSIGNAL */

reg [OUT_W+16:0] m_data_reg;
reg m_valid_reg;

// ---------------------------------------------------------------- control
wire s_eoe = s_data[N_IN+16];
wire [15:0] s_event = s_data[N_IN+15:N_IN];
wire out_free = !m_valid_reg || m_ready;
wire a_busy = pend_reg != 0;

// the LIF pipeline stops while its last step of a tick cannot hand over the tick's raster
wire stall = s2_valid_reg && s2_last_reg && !out_free;
// buffer b is complete when no read or add for it is in flight
wire [1:0] start_b = upd_b_next_reg;
wire start_drained = !(a_busy && a_b_reg == start_b) && !(sa_any_reg && sa_b_reg == start_b)
                     && !(rd_any_reg && rd_b_reg == start_b)
                     && !(md_any_reg && md_b_reg == start_b) && !(tr_any_reg && tr_b_reg == start_b);
// the next tick's update starts when its raster is taken, the previous tick has issued its steps, the
// buffer of the raster before it is complete, and the previous tick's first step has left stages 0 to 2
// (its state is committed: with fewer than 4 steps per tick, neuron 0's state is read again before that)
wire first_busy = (s0_valid_reg && s0_first_reg) || (s1_valid_reg && s1_first_reg) || (s2_valid_reg && s2_first_reg);
wire upd_start = !upd_on_reg && todo_reg != 0 && start_drained && !first_busy && !stall;
wire upd_issue = (upd_on_reg && !stall) || upd_start;
wire [JW-1:0] issue_j = upd_on_reg ? upd_j_reg : {JW{1'b0}};
wire [1:0] issue_b = upd_on_reg ? upd_b_reg : start_b;
wire issue_last = upd_on_reg ? upd_last_reg : STEPS == 1;
// at most one tick taken and not fully issued after this cycle's last issue: open_ticks =
// todo + upd_on - (upd_issue && issue_last) <= 1, written as logic (a carry chain here would sit on the path
// from the stage registers through the start control into s_ready)
wire finishing = upd_on_reg ? !stall && upd_last_reg : upd_start && STEPS == 1;
wire open_le1 = todo_reg == 2'd0 || (todo_reg == 2'd1 && !upd_on_reg);    // todo + upd_on <= 1
wire open_le2 = todo_reg != 2'd3 && !(todo_reg == 2'd2 && upd_on_reg);    // todo + upd_on <= 2
wire open_ok = finishing ? open_le2 : open_le1;

// a raster starts when the previous one is read (in the cycle of its last read) and its buffer has been
// read by the update two ticks back (raster k reuses raster k-3's buffer, which tick k-2 updates from)
wire a_free;
wire take_raster = s_valid && !s_eoe && a_free && open_ok;
// the end of the event: everything drained and updated; the last raster's input is discarded, the state
// returns to zero
wire take_eoe = s_valid && s_eoe && !a_busy && !sa_any_reg && !rd_any_reg && !md_any_reg && !tr_any_reg && todo_reg == 0
                && !upd_on_reg
                && !s0_valid_reg && !s1_valid_reg && !s2_valid_reg && out_free;
assign s_ready = take_raster || take_eoe;

// ---------------------------------------------------------------- synapse: banks and adder tree
wire [IN_PAD-1:0] clr;   // the spikes read this cycle
wire a_last = a_g_reg == G_LAST;
// the raster is read out in this cycle when it is the last group's read and every bank holds at most one
// pending spike: a test of each bank's slice alone, not of what its priority encoder clears (shorter)
wire [ROWS-1:0] bank_le1;
assign a_free = !a_busy || (a_last && &bank_le1);
genvar b, r, k;
generate
    for (b = 0; b < ROWS; b = b + 1) begin : bank
        localparam [7:0] BANK_H = 8'd48 + b / 100;
        localparam [7:0] BANK_T = 8'd48 + (b / 10) % 10;
        localparam [7:0] BANK_O = 8'd48 + b % 10;
        localparam W_FILE = {MEM_PREFIX, "l", DIGIT_TENS, DIGIT_ONES, "_w", BANK_H, BANK_T, BANK_O, ".mem"};
        reg [LANES*W_W-1:0] rd_reg;
        assign w_rd[b*LANES*W_W +: LANES*W_W] = rd_reg;
        // this bank's slice of the raster and its lowest pending spike (nc_prio_enc: balanced ORs, not a
        // chain through the slice)
        wire [RW-1:0] sel;
        wire [DEPTH-1:0] slice, lowest;
        wire has;
        for (r = 0; r < DEPTH; r = r + 1) begin : row
            assign slice[r] = pend_reg[r * ROWS + b];
            assign clr[r * ROWS + b] = a_last && lowest[r];
        end
        nc_prio_enc #(
            .WIDTH(DEPTH),
            .IW(RW)
        ) lowest_spike (
            .req(slice),
            .index(sel),
            .onehot(lowest),
            .valid(has)
        );
        // at most one pending spike in the slice
        assign bank_le1[b] = (slice & ~lowest) == 0;
        /* verilator lint_off UNUSEDSIGNAL */
        wire [31:0] rd_addr = {{(32-RW){1'b0}}, sel} * GROUPS + {{(32-GW){1'b0}}, a_g_reg};
        /* verilator lint_on UNUSEDSIGNAL */
        wire [31:0] mem_word = {12'd0, mem_addr[19:0]};
        wire mem_here = mem_kind == 2'd0 && mem_addr[31:20] == b && mem_word < BANK_WORDS;
        wire wr_en = WRITABLE != 0 && mem_we && mem_here;
        // a memory read (idle: no spike pending) shares the bank's one read port; the word goes through the
        // adder tree, where every other bank adds zero
        // stage S: the spike's word address, registered (the encoder's path ends here, not at the RAM)
        reg sa_has_reg;
        reg [31:0] sa_addr_reg;
        always @(posedge clk) begin
            sa_has_reg <= has;
            sa_addr_reg <= rd_addr;
            if (rst) sa_has_reg <= 1'b0;
        end
        wire rd_en = sa_has_reg || (mem_re && mem_here);
        /* verilator lint_off UNUSEDSIGNAL */
        wire [31:0] rd_word = sa_has_reg ? sa_addr_reg : mem_word;
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
wire [LANES*ACC_W-1:0] acc_rd;   // the group's accumulators (state storage, below)
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

// ---------------------------------------------------------------- LIF update: step issue_j, then stages 0, 1
// step j updates neurons j*LIF_LANES .. j*LIF_LANES + LIF_LANES - 1: sub-group j mod SUBS of accumulator
// group j div SUBS, at index issue_b * GROUPS + j div SUBS (the counters above; the first step's from
// start_idx_reg)
wire [IW-1:0] issue_idx = upd_on_reg ? upd_idx_reg : start_idx_reg;
wire [SW-1:0] issue_s = upd_on_reg ? upd_s_reg : {SW{1'b0}};
wire issue_clear = upd_on_reg ? upd_clear_reg : SUBS == 1;   // the group's last step: its accumulators are consumed
wire [LANES*ACC_W-1:0] acc_grp;  // the issued group's accumulators (state storage, below)
// sub-group issue_s of the group: a multiplexer of constant slices (a variable part-select would leave
// issue_s * LIF_LANES * ACC_W to synthesis, which maps it to a DSP48 multiplier)
wire [LIF_LANES*ACC_W-1:0] acc_sub [0:SUBS-1];
genvar q;
generate
    for (q = 0; q < SUBS; q = q + 1) begin : sub
        assign acc_sub[q] = acc_grp[q * LIF_LANES * ACC_W +: LIF_LANES * ACC_W];
    end
endgenerate
wire [LIF_LANES*ACC_W-1:0] acc_g = acc_sub[issue_s];
wire [LIF_LANES*U_W-1:0] u_g;   // the step's current and voltage (state storage, below)
wire [LIF_LANES*24-1:0] v_g;
wire [LIF_LANES*U_W-1:0] u_new;
wire [LIF_LANES*24-1:0] v_new;
wire [LIF_LANES-1:0] spk_new;

generate
    for (k = 0; k < LIF_LANES; k = k + 1) begin : lane
        // stage 0 takes it only at an issue (ce_in): an event-driven simulator (Icarus) then leaves the
        // datapath alone between ticks
        wire signed [ACC_W-1:0] acc = acc_g[k*ACC_W +: ACC_W];
        wire signed [47:0] wide = {{(48-ACC_W){acc[ACC_W-1]}}, acc};
        /* verilator lint_off UNUSEDSIGNAL */
        wire signed [47:0] shifted = weight_exp[3] ? wide >>> (-weight_exp) : wide <<< weight_exp;
        /* verilator lint_on UNUSEDSIGNAL */
        // this lane's parameters at step issue_j: word issue_j * LIF_LANES + k, chosen among the lane's STEPS
        // words (constant addresses: no index arithmetic)
        wire [P_W-1:0] par_step [0:STEPS-1];
        for (q = 0; q < STEPS; q = q + 1) begin : step
            assign par_step[q] = p_mem[q * LIF_LANES + k];
        end
        wire [P_W-1:0] par = par_step[issue_j];
        nc_lif_update #(
            .U_W(U_W)
        ) lif (
            .clk(clk),
            .ce_in(upd_issue),
            .ce(!stall),
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

// stage 3 (the commit): the tick's raster with step s2_j's neurons replaced by their spikes (padding
// neurons masked)
wire [N_PAD-1:0] spk_vec_upd;
generate
    for (k = 0; k < N_PAD; k = k + 1) begin : place
        // neuron k is lane k mod LIF_LANES of step k div LIF_LANES (constants: a compare of s2_j per bit, no
        // shifter)
        if (k < N_OUT) begin : real_neuron
            localparam [31:0] STEP32 = k / LIF_LANES;
            assign spk_vec_upd[k] = s2_j_reg == STEP32[JW-1:0] ? spk_new[k % LIF_LANES] : spk_vec_reg[k];
        end else begin : pad
            assign spk_vec_upd[k] = 1'b0;
        end
    end
endgenerate
wire commit = s2_valid_reg && !stall;

// ---------------------------------------------------------------- neuron state
// Writes: stage A adds into accumulator tr_idx; the issue of a group's last step consumes accumulator
// issue_idx; the commit writes step s2_j's u and v; the end of an event (or reset) zeroes all of it. Later
// writes win (end of event over consumption over the add), as in one clocked block.
wire acc_add = tr_any_reg;
wire acc_consume = upd_issue && issue_clear;
wire state_clear = take_eoe || rst;
localparam UV_W = LIF_LANES * (U_W + 24);
wire [UV_W-1:0] uv_rd;
assign u_g = uv_rd[LIF_LANES*U_W-1:0];
assign v_g = uv_rd[UV_W-1:LIF_LANES*U_W];
// all final voltages, neuron n at [24n +: 24] (the output layer's end-of-event payload)
/* verilator lint_off UNUSEDSIGNAL */
wire [N_PAD*24-1:0] v_all;   // unused below the output layer
/* verilator lint_on UNUSEDSIGNAL */
integer j;   // loop variable of the state's register blocks
generate
    if (STATE_RAM) begin : acc_ram
        // distributed RAM, word p*GROUPS + g (buffer p, group g), and a live bit per word
        reg [LANES*ACC_W-1:0] acc_mem [0:3*GROUPS-1];
        reg [3*GROUPS-1:0] acc_live_reg;
        always @(posedge clk) begin
            if (acc_add) acc_mem[tr_idx_reg] <= acc_sum;
        end
        always @(posedge clk) begin
            if (acc_add) acc_live_reg[tr_idx_reg] <= 1'b1;
            if (acc_consume) acc_live_reg[issue_idx] <= 1'b0;
            if (state_clear) acc_live_reg <= {3*GROUPS{1'b0}};
        end
        assign acc_rd = acc_live_reg[tr_idx_reg] ? acc_mem[tr_idx_reg] : {LANES*ACC_W{1'b0}};
        assign acc_grp = acc_live_reg[issue_idx] ? acc_mem[issue_idx] : {LANES*ACC_W{1'b0}};
    end else begin : acc_regs
        reg [LANES*ACC_W-1:0] acc_reg [0:3*GROUPS-1];   // buffer p, group g at p*GROUPS + g
        always @(posedge clk) begin
            if (acc_add) acc_reg[tr_idx_reg] <= acc_sum;
            if (acc_consume) acc_reg[issue_idx] <= 0;
            if (state_clear) begin
                for (j = 0; j < 3 * GROUPS; j = j + 1) begin
                    acc_reg[j] <= 0;
                end
            end
        end
        assign acc_rd = acc_reg[tr_idx_reg];
        assign acc_grp = acc_reg[issue_idx];
    end
    if (STATE_RAM) begin : uv_ram
        // distributed RAM, word j = step j's {v, u}, and a live bit per word
        reg [UV_W-1:0] uv_mem [0:STEPS-1];
        reg [STEPS-1:0] uv_live_reg;
        always @(posedge clk) begin
            if (commit) uv_mem[s2_j_reg] <= {v_new, u_new};
        end
        always @(posedge clk) begin
            if (commit) uv_live_reg[s2_j_reg] <= 1'b1;
            if (state_clear) uv_live_reg <= {STEPS{1'b0}};
        end
        assign uv_rd = uv_live_reg[issue_j] ? uv_mem[issue_j] : {UV_W{1'b0}};
        if (EMIT_V != 0) begin : v_copy
            // the output layer also keeps its voltages in registers, all readable at once
            for (k = 0; k < STEPS; k = k + 1) begin : step
                localparam [31:0] STEP32 = k;
                reg [LIF_LANES*24-1:0] v_copy_reg;
                always @(posedge clk) begin
                    if (commit && s2_j_reg == STEP32[JW-1:0]) v_copy_reg <= v_new;
                end
                assign v_all[k*LIF_LANES*24 +: LIF_LANES*24] = uv_live_reg[k] ? v_copy_reg : {LIF_LANES*24{1'b0}};
            end
        end else begin : no_v_copy
            assign v_all = {N_PAD*24{1'b0}};
        end
    end else begin : uv_regs
        reg [LIF_LANES*U_W-1:0] u_reg [0:STEPS-1];
        reg [LIF_LANES*24-1:0] v_reg [0:STEPS-1];
        always @(posedge clk) begin
            if (commit) begin
                u_reg[s2_j_reg] <= u_new;
                v_reg[s2_j_reg] <= v_new;
            end
            if (state_clear) begin
                for (j = 0; j < STEPS; j = j + 1) begin
                    u_reg[j] <= 0;
                    v_reg[j] <= 0;
                end
            end
        end
        assign uv_rd = {v_reg[issue_j], u_reg[issue_j]};
        for (k = 0; k < STEPS; k = k + 1) begin : vcat
            assign v_all[k*LIF_LANES*24 +: LIF_LANES*24] = v_reg[k];
        end
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
assign busy = in_event_reg || a_busy || sa_any_reg || rd_any_reg || md_any_reg || tr_any_reg || todo_reg != 0 || upd_on_reg
              || s0_valid_reg || s1_valid_reg || s2_valid_reg || m_valid_reg;

always @(posedge clk) begin
    if (m_ready) m_valid_reg <= 1'b0;

    // synapse: banks take the address of group a_g of their lowest pending spike (stage S) and read it
    // (stage R), the tree adds the words (stages M and T), the sum joins the accumulators (stage A); after
    // the last group, the spikes are cleared
    sa_any_reg <= a_busy;
    sa_idx_reg <= a_idx_reg;
    sa_b_reg <= a_b_reg;
    rd_any_reg <= sa_any_reg;
    rd_idx_reg <= sa_idx_reg;
    rd_b_reg <= sa_b_reg;
    md_any_reg <= rd_any_reg;
    md_idx_reg <= rd_idx_reg;
    md_b_reg <= rd_b_reg;
    tr_any_reg <= md_any_reg;
    tr_idx_reg <= md_idx_reg;
    tr_b_reg <= md_b_reg;
    if (a_busy) begin
        a_g_reg <= a_last ? {GW{1'b0}} : a_g_reg + 1'b1;
        a_idx_reg <= a_last ? a_base_reg : a_idx_reg + 1'b1;
        if (a_last) pend_reg <= pend_reg & ~clr;
    end

    // LIF: issue a step (stage 0 takes its operands; the group's last step clears its accumulators, which
    // no add can target: the buffer is complete), move the steps on through stages 1 and 2 unless stalled,
    // commit the step in stage 2 (stage 3); after the tick's last step its raster leaves
    if (upd_issue) begin
        upd_on_reg <= !issue_last;
        upd_j_reg <= issue_j + 1'b1;
        upd_b_reg <= issue_b;
        upd_idx_reg <= issue_clear ? issue_idx + 1'b1 : issue_idx;
        upd_s_reg <= issue_clear ? {SW{1'b0}} : issue_s + 1'b1;
        upd_clear_reg <= issue_clear ? SUBS == 1 : issue_s + 1'b1 == S_LAST;
        upd_last_reg <= issue_j + 1'b1 == J_LAST;
    end
    if (upd_start) begin
        upd_b_next_reg <= upd_b_next_reg == 2'd2 ? 2'd0 : upd_b_next_reg + 1'b1;
        start_idx_reg <= upd_b_next_reg == 2'd2 ? {IW{1'b0}} : (upd_b_next_reg == 2'd1 ? BASE2 : BASE1);
    end
    // todo + take_raster - upd_start, as logic
    if (take_raster && !upd_start) todo_reg <= {todo_reg[1] ^ todo_reg[0], !todo_reg[0]};
    if (upd_start && !take_raster) todo_reg <= {todo_reg[1] ^ !todo_reg[0], !todo_reg[0]};
    if (!stall) begin
        s0_valid_reg <= upd_issue;
        s0_j_reg <= issue_j;
        s0_first_reg <= !upd_on_reg;
        s0_last_reg <= issue_last;
        s1_valid_reg <= s0_valid_reg;
        s1_j_reg <= s0_j_reg;
        s1_first_reg <= s0_first_reg;
        s1_last_reg <= s0_last_reg;
        s2_valid_reg <= s1_valid_reg;
        s2_j_reg <= s1_j_reg;
        s2_first_reg <= s1_first_reg;
        s2_last_reg <= s1_last_reg;
    end
    if (commit) begin
        spk_vec_reg <= spk_vec_upd;
        if (s2_last_reg) begin
            m_data_reg <= {1'b0, 16'd0, tick_payload};
            m_valid_reg <= 1'b1;
        end
    end

    if (take_raster) begin
        pend_reg <= {{(IN_PAD-N_IN){1'b0}}, s_data[N_IN-1:0]};
        a_g_reg <= 0;
        a_b_reg <= a_b_next_reg;
        a_b_next_reg <= a_b_next_reg == 2'd2 ? 2'd0 : a_b_next_reg + 1'b1;
        a_idx_reg <= a_base_next_reg;
        a_base_reg <= a_base_next_reg;
        a_base_next_reg <= a_b_next_reg == 2'd2 ? {IW{1'b0}} : (a_b_next_reg == 2'd1 ? BASE2 : BASE1);
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
        a_base_next_reg <= {IW{1'b0}};
        upd_b_next_reg <= 2'd2;
        start_idx_reg <= BASE2;
    end

    if (rst) begin
        pend_reg <= 0;
        a_g_reg <= 0;
        a_b_reg <= 2'd0;
        a_idx_reg <= {IW{1'b0}};
        a_base_reg <= {IW{1'b0}};
        sa_any_reg <= 1'b0;
        rd_any_reg <= 1'b0;
        md_any_reg <= 1'b0;
        tr_any_reg <= 1'b0;
        // the index and buffer pipelines too (no SRL16E, whose clock-to-out would start the accumulator's path)
        sa_idx_reg <= {IW{1'b0}};
        sa_b_reg <= 2'd0;
        rd_idx_reg <= {IW{1'b0}};
        md_idx_reg <= {IW{1'b0}};
        tr_idx_reg <= {IW{1'b0}};
        rd_b_reg <= 2'd0;
        md_b_reg <= 2'd0;
        tr_b_reg <= 2'd0;
        in_event_reg <= 1'b0;
        todo_reg <= 2'd0;
        upd_on_reg <= 1'b0;
        upd_j_reg <= 0;
        upd_b_reg <= 2'd0;
        upd_idx_reg <= {IW{1'b0}};
        upd_s_reg <= {SW{1'b0}};
        upd_clear_reg <= 1'b0;
        upd_last_reg <= 1'b0;
        // the stages' step registers too: without a reset, synthesis makes shift registers (SRL16E) of
        // them, whose clock-to-out (1.5 ns) starts the start control's path
        s0_valid_reg <= 1'b0;
        s0_j_reg <= 0;
        s0_first_reg <= 1'b0;
        s0_last_reg <= 1'b0;
        s1_valid_reg <= 1'b0;
        s1_j_reg <= 0;
        s1_first_reg <= 1'b0;
        s1_last_reg <= 1'b0;
        s2_valid_reg <= 1'b0;
        s2_j_reg <= 0;
        s2_first_reg <= 1'b0;
        s2_last_reg <= 1'b0;
        spk_vec_reg <= 0;
        m_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
