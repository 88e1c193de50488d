`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * AER input stage: checks the words of neurocal/aer.py and turns an event into the spike rasters
 * every layer consumes (tokens {eoe, event[15:0], raster[N_IN-1:0]}, see nc_lif_layer):
 *
 *   input  : tick 0 spikes, EOT(0), ..., tick T-1 spikes, EOT(T-1), EOE(T, event)
 *   output : rasters 0 .. T-1, then LAYERS empty rasters (the network runs T + LAYERS ticks), then
 *            the end-of-event token with the event number
 *
 * s_axis carries WORDS AER words per beat, word w at tdata[32w +: 32] (little-endian order); tkeep
 * is byte-level as AXI asks, read per word: a word is present when its four tkeep bits are set,
 * absent (skipped) when they are all clear, and malformed otherwise. Each cycle the stage takes the
 * words of the beat up to and including the next end-of-tick word and the following tick's spikes
 * (or up to an end-of-event word): a beat holding k end-of-tick words takes max(1, k) cycles.
 *
 * A malformed word is dropped and counted in err_malformed (words this cycle): reserved kind 0b11,
 * a spike whose tick is not the current tick, whose address is >= N_IN, or not above the previous
 * spike of its tick, an EOT or EOE whose tick field disagrees with the ticks seen (the marker still
 * closes the tick or the event, so that one bad word does not shift the rest of the stream).
 * err_overflow pulses when T + LAYERS does not fit the 14-bit tick field.
 *
 * Framing: s_axis_tlast marks the beat that ends an event. A beat with tlast whose words leave an event
 * open (its end-of-event word was lost) closes that event there, as an end-of-event word at the end of the
 * beat would (the ticks seen so far, then LAYERS appended ticks), numbered one above the previous event,
 * and err_framing pulses: the broken event is counted, and the next event starts clean instead of being
 * merged into it. (Its rasters already went downstream tick by tick: the host discards the event by the
 * count.) An end-of-event word without tlast is fine (several events may share one frame).
 *
 * Datapath: every word of the beat is checked in parallel, none waits for its predecessor's result.
 * With m_w = "word w is a marker" (an EOT or EOE word, all tkeep bits set, not yet taken), the
 * prefix ORs seen1_w = OR_{j<w} m_j and seen2_w = OR_{j<w} (m_j & seen1_j) give each word's phase:
 *   phase 0 (~seen1_w): the current tick, up to and including the first marker;
 *   phase 1 (seen1_w & ~seen2_w & ~m_w, first marker an EOT): the next tick's spikes;
 *   deferred (the rest): left for the next cycle (position mask avail_reg).
 * "Above the previous spike of its tick" is exact without a chain: the previous accepted spike is
 * the running maximum of the accepted addresses, and a rejected candidate (a spike of the right tick
 * and a valid address) is never above that maximum, so the maximum over accepted spikes equals the
 * maximum over candidates. Spike w is therefore accepted iff it is a candidate and its address is
 * above every earlier candidate of its phase (and above last_addr_reg in phase 0, when any_reg):
 * WORDS*(WORDS-1)/2 address compares in parallel and an AND per word. The rasters are an OR over
 * words of (accepted & one-hot(address)), the one-hot built from two pre-decoded address fields.
 */
module nc_aer_rx #
(
    // number of input channels (valid spike addresses 0..N_IN-1)
    parameter N_IN = 400,
    // number of layers: empty ticks appended after the input's last tick
    parameter LAYERS = 3,
    // AER words per s_axis beat (1..64)
    parameter WORDS = 1
)
(
    input  wire        clk,
    input  wire        rst,

    input  wire [32*WORDS-1:0] s_axis_tdata,
    input  wire [4*WORDS-1:0]  s_axis_tkeep,
    input  wire        s_axis_tvalid,
    output wire        s_axis_tready,
    input  wire        s_axis_tlast,   // the last beat of an event (see Framing)

    output wire [N_IN+16:0] m_data,   // {eoe, event, raster}
    output wire        m_valid,
    input  wire        m_ready,

    output wire        event_start,    // the first word of an event is taken
    output wire        event_end,      // an EOE word is taken, or tlast closes a broken event
    output wire [7:0]  err_malformed,  // malformed words dropped this cycle
    output wire        err_overflow,
    output wire        err_framing     // pulse: tlast closed an event that had no end-of-event word
);

localparam [1:0] KIND_SPIKE = 2'b00, KIND_EOT = 2'b01, KIND_EOE = 2'b10;
localparam [31:0] LAYERS32 = LAYERS;
localparam AW = N_IN > 1 ? $clog2(N_IN) : 1;  // bits of a valid address
localparam LB = AW < 5 ? AW : 5;              // low address bits, pre-decoded to LN lines per word
localparam LN = 1 << LB;
localparam HN = 1 << (AW - LB);               // lines of the high address bits (1: none)
localparam [31:0] N_IN32 = N_IN;  // <= 2^16

reg [N_IN+16:0] m_data_reg;
reg m_valid_reg;
reg [N_IN-1:0] raster_reg;   // spikes of the current tick so far
reg [13:0] tick_reg;         // current input tick
reg [13:0] tick1_reg;        // tick_reg + 1 (registered: no adder before the compares)
reg [AW-1:0] last_addr_reg;  // last spike address of the current tick
reg any_reg;                 // a spike of the current tick has been seen
reg in_event_reg;
reg [7:0] pad_reg;           // empty ticks still to append
reg eoe_pending_reg;         // the end-of-event token is still to send
reg [15:0] event_reg;        // event number of the EOE word
reg [WORDS-1:0] avail_reg;   // words of the beat not yet taken (a suffix of the beat)

// ---------------------------------------------------------------- per word, all words in parallel
reg [WORDS-1:0] present, mark, tick0_ok, cand0, cand1, seen1, seen2, first, defer, bad, last0, last1;
// keep: the acceptance and the decoded lines are shared by the 2 x N_IN raster bits; without the boundary the
// mapper copies their logic into every bit's cone
(* keep *) reg [WORDS-1:0] acc0, acc1;  // accepted spikes of phase 0 / 1
reg [WORDS-1:0] above_last;     // address above last_addr_reg
reg [WORDS*WORDS-1:0] above;    // above[w*WORDS + j]: address of word w > address of word j (j < w)
reg [WORDS-1:0] ok0, ok1;       // above every earlier candidate of phase 0 / 1
reg eoe1;                       // the first marker is an end-of-event word
reg stop;                       // an end-of-tick or end-of-event word closes the current tick this cycle
reg more;                       // words remain in the beat for the next cycle
reg [1:0] bnd_kind;
reg [15:0] bnd_addr;
reg [AW-1:0] last_n, last2_n;
reg any_n, any2_n;
reg [7:0] bad_n;
reg [WORDS-1:0] avail_n;        // avail_reg after this cycle's words
/* verilator lint_off UNUSEDSIGNAL */
(* keep *) reg [LN*WORDS-1:0] lo;          // lo[k*WORDS + w]: address[LB-1:0] of word w == k
(* keep *) reg [HN*WORDS-1:0] hi0, hi1;    // hi0[m*WORDS + w]: word w accepted in phase 0, address[AW-1:LB] == m (m*LN >= N_IN unused)
/* verilator lint_on UNUSEDSIGNAL */
reg [31:0] wd;
reg [AW-1:0] aj;
reg [8*WORDS-1:0] cnt;          // popcount tree of bad
integer step;
reg [3:0] keep;
integer w, j, k;
always @* begin
    for (w = 0; w < WORDS; w = w + 1) begin
        wd = s_axis_tdata[32*w +: 32];
        keep = s_axis_tkeep[4*w +: 4];
        present[w] = avail_reg[w] && keep != 4'h0;
        mark[w] = avail_reg[w] && keep == 4'hF && (wd[31:30] == KIND_EOT || wd[31:30] == KIND_EOE);
        tick0_ok[w] = wd[29:16] == tick_reg;
        cand0[w] = avail_reg[w] && keep == 4'hF && wd[31:30] == KIND_SPIKE && {16'd0, wd[15:0]} < N_IN32
                   && wd[29:16] == tick_reg;
        cand1[w] = avail_reg[w] && keep == 4'hF && wd[31:30] == KIND_SPIKE && {16'd0, wd[15:0]} < N_IN32
                   && wd[29:16] == tick1_reg;
        above_last[w] = wd[AW-1:0] > last_addr_reg;
        above[w*WORDS +: WORDS] = {WORDS{1'b1}};  // j >= w: no constraint
        for (j = 0; j < w; j = j + 1) begin
            aj = s_axis_tdata[32*j +: AW];
            above[w*WORDS + j] = wd[AW-1:0] > aj;
        end
        for (k = 0; k < LN; k = k + 1) lo[k*WORDS + w] = wd[LB-1:0] == k[LB-1:0];
        for (k = 0; k < HN; k = k + 1) hi0[k*WORDS + w] = (wd[AW-1:0] >> LB) == k[AW-1:0];
    end
    // phases: prefix ORs over the marker vector
    for (w = 0; w < WORDS; w = w + 1) begin
        seen1[w] = |(mark & ({WORDS{1'b1}} >> (WORDS - w)));  // words before w
    end
    for (w = 0; w < WORDS; w = w + 1) begin
        seen2[w] = |(mark & seen1 & ({WORDS{1'b1}} >> (WORDS - w)));
    end
    first = mark & ~seen1;
    stop = |mark;
    eoe1 = 1'b0;
    bnd_addr = 0;
    for (w = 0; w < WORDS; w = w + 1) begin
        wd = s_axis_tdata[32*w +: 32];
        eoe1 = eoe1 | (first[w] & wd[31]);
        bnd_addr = bnd_addr | (first[w] ? wd[15:0] : 16'd0);
    end
    bnd_kind = eoe1 ? KIND_EOE : KIND_EOT;
    // phase 1 needs no "first marker is an EOT" term: after an EOE every later word is deferred (not counted)
    // and raster2_n/last2_n/any2_n are used only when the first marker is an EOT
    cand1 = cand1 & seen1 & ~seen2;
    defer = present & seen1 & (seen2 | mark | {WORDS{eoe1}});
    // acceptance: above every earlier candidate of the same phase. In phase 0 every earlier word is in phase 0
    // too (seen1 only rises), so ok0 compares with the tick candidates before the phase is known.
    for (w = 0; w < WORDS; w = w + 1) begin
        ok0[w] = &(above[w*WORDS +: WORDS] | ~cand0) && (!any_reg || above_last[w]);
        ok1[w] = &(above[w*WORDS +: WORDS] | ~cand1);
    end
    acc0 = cand0 & ok0 & ~seen1;
    acc1 = cand1 & ok1;
    bad = present & ~defer & ~acc0 & ~acc1 & ~(first & tick0_ok);
    // bad_n = popcount(bad), a balanced tree
    for (w = 0; w < WORDS; w = w + 1) cnt[8*w +: 8] = {7'd0, bad[w]};
    for (step = 1; step < WORDS; step = step * 2) begin
        for (w = 0; w + step < WORDS; w = w + 2 * step) cnt[8*w +: 8] = cnt[8*w +: 8] + cnt[8*(w+step) +: 8];
    end
    bad_n = cnt[7:0];
    // the last accepted spike of each phase (accepted addresses ascend)
    last_n = 0;
    last2_n = 0;
    for (w = 0; w < WORDS; w = w + 1) begin
        wd = s_axis_tdata[32*w +: 32];
        last0[w] = acc0[w] && (acc0 >> (w + 1)) == 0;
        last1[w] = acc1[w] && (acc1 >> (w + 1)) == 0;
        last_n = last_n | (last0[w] ? wd[AW-1:0] : {AW{1'b0}});
        last2_n = last2_n | (last1[w] ? wd[AW-1:0] : {AW{1'b0}});
    end
    if (acc0 == 0) last_n = last_addr_reg;
    any_n = any_reg || acc0 != 0;
    any2_n = acc1 != 0;
    more = defer != 0;
    for (w = 0; w < WORDS; w = w + 1) begin
        avail_n[w] = !more || |(defer & ({WORDS{1'b1}} >> (WORDS - 1 - w)));  // from the first deferred word on
    end
    // accepted spikes on the pre-decoded high-address lines (fewer lines than the low field)
    for (k = 0; k < HN; k = k + 1) begin
        hi1[k*WORDS +: WORDS] = hi0[k*WORDS +: WORDS] & acc1;
        hi0[k*WORDS +: WORDS] = hi0[k*WORDS +: WORDS] & acc0;
    end
end

// ---------------------------------------------------------------- rasters: OR over words of one-hot(address)
(* keep *) wire [N_IN-1:0] raster_n, raster2_n;
genvar gi;
generate
    for (gi = 0; gi < N_IN; gi = gi + 1) begin : bits
        wire [WORDS-1:0] l = lo[(gi % LN)*WORDS +: WORDS];
        assign raster_n[gi] = raster_reg[gi] || (hi0[(gi / LN)*WORDS +: WORDS] & l) != 0;
        assign raster2_n[gi] = (hi1[(gi / LN)*WORDS +: WORDS] & l) != 0;
    end
endgenerate

wire out_free = !m_valid_reg || m_ready;
wire padding = pad_reg != 0 || eoe_pending_reg;
wire active = s_axis_tvalid && !padding && !rst;
// the words up to the boundary are taken when the boundary can be handled (an EOT needs the output)
wire commit = active && (!stop || bnd_kind == KIND_EOE || out_free);
wire beat_done = commit && !more;
assign s_axis_tready = beat_done;

wire eoe_now = stop && bnd_kind == KIND_EOE;
wire took = (present & ~defer) != 0;  // a word of the beat is taken this cycle
wire open_n = in_event_reg || took;
// the event's last beat without its end-of-event word
wire broken = beat_done && s_axis_tlast && !eoe_now && open_n;

// ticks the event ran: the closed ones (an EOT closing a tick this cycle counts) plus the appended ones
wire [31:0] total = {18'd0, stop && bnd_kind == KIND_EOT ? tick1_reg : tick_reg} + LAYERS;

assign m_data = m_data_reg;
assign m_valid = m_valid_reg;
assign event_start = commit && !in_event_reg && took;
assign event_end = (commit && eoe_now) || broken;
assign err_malformed = commit ? bad_n : 8'd0;
assign err_overflow = event_end && total > 32'd16383;
assign err_framing = broken;

always @(posedge clk) begin
    if (m_ready) begin
        m_valid_reg <= 1'b0;
    end
    if (commit) begin
        in_event_reg <= open_n;
        raster_reg <= raster_n;
        last_addr_reg <= last_n;
        any_reg <= any_n;
        avail_reg <= avail_n;
        if (stop && bnd_kind == KIND_EOT) begin
            m_data_reg <= {1'b0, 16'd0, raster_n};
            m_valid_reg <= 1'b1;
            raster_reg <= raster2_n;
            last_addr_reg <= last2_n;
            any_reg <= any2_n;
            tick_reg <= tick1_reg;
            tick1_reg <= tick1_reg + 1;
        end
        if (eoe_now) begin
            pad_reg <= LAYERS32[7:0];
            event_reg <= bnd_addr;
        end
        if (broken) begin
            pad_reg <= LAYERS32[7:0];
            event_reg <= event_reg + 16'd1;
        end
    end else if (padding && out_free) begin
        m_valid_reg <= 1'b1;
        if (pad_reg != 0) begin
            // spikes after the last EOT (tick field = T) fall into the first appended tick
            m_data_reg <= {1'b0, 16'd0, raster_reg};
            raster_reg <= 0;
            tick_reg <= tick1_reg;
            tick1_reg <= tick1_reg + 1;
            pad_reg <= pad_reg - 1;
            eoe_pending_reg <= pad_reg == 1;
        end else begin
            m_data_reg <= {1'b1, event_reg, {N_IN{1'b0}}};
            eoe_pending_reg <= 1'b0;
            tick_reg <= 0;
            tick1_reg <= 1;
            any_reg <= 1'b0;
            in_event_reg <= 1'b0;
        end
    end
    if (rst) begin
        m_valid_reg <= 1'b0;
        raster_reg <= 0;
        tick_reg <= 0;
        tick1_reg <= 1;
        any_reg <= 1'b0;
        in_event_reg <= 1'b0;
        pad_reg <= 0;
        eoe_pending_reg <= 1'b0;
        event_reg <= 16'hFFFF;  // a broken first event is numbered 0
        avail_reg <= {WORDS{1'b1}};
    end
end

endmodule

`resetall
