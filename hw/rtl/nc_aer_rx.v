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
    input  wire        s_axis_tlast,   // not needed: the EOE word frames the event

    output wire [N_IN+16:0] m_data,   // {eoe, event, raster}
    output wire        m_valid,
    input  wire        m_ready,

    output wire        event_start,    // the first word of an event is taken
    output wire        event_end,      // an EOE word is taken
    output wire [7:0]  err_malformed,  // malformed words dropped this cycle
    output wire        err_overflow
);

localparam [1:0] KIND_SPIKE = 2'b00, KIND_EOT = 2'b01, KIND_EOE = 2'b10;
localparam [31:0] LAYERS32 = LAYERS;
localparam AW = N_IN > 1 ? $clog2(N_IN) : 1;  // bits of a valid address

reg [N_IN+16:0] m_data_reg;
reg m_valid_reg;
reg [N_IN-1:0] raster_reg;   // spikes of the current tick so far
reg [13:0] tick_reg;         // current input tick
reg [15:0] last_addr_reg;    // last spike address of the current tick
reg any_reg;                 // a spike of the current tick has been seen
reg in_event_reg;
reg [7:0] pad_reg;           // empty ticks still to append
reg eoe_pending_reg;         // the end-of-event token is still to send
reg [15:0] event_reg;        // event number of the EOE word
reg [7:0] pos_reg;           // first word of the beat not yet taken

// ---------------------------------------------------------------- the words of this cycle, in order
// Phase 0: the spikes of the current tick up to its end-of-tick (or end-of-event) word; phase 1 (after
// an end-of-tick word): the next tick's spikes, up to (not including) the next marker, so that a cycle
// emits one raster and starts the next: a beat costs max(1, its end-of-tick words) cycles.
reg [N_IN-1:0] raster_n, raster2_n;
reg [15:0] last_n, last2_n;
reg any_n, any2_n;
reg [7:0] bad_n;
reg stop;            // an end-of-tick or end-of-event word closes the current tick this cycle
reg more;            // words remain in the beat for the next cycle
reg [1:0] phase;     // 0, 1, or 2: no further word is taken this cycle
reg [1:0] bnd_kind;
reg [7:0] rest_pos;  // first word left for the next cycle
reg [15:0] bnd_addr;
reg [31:0] word;
reg [3:0] keep;
integer w;
always @* begin
    raster_n = raster_reg;
    raster2_n = 0;
    last_n = last_addr_reg;
    last2_n = 0;
    any_n = any_reg;
    any2_n = 1'b0;
    bad_n = 0;
    stop = 1'b0;
    more = 1'b0;
    phase = 2'd0;
    bnd_kind = KIND_SPIKE;
    rest_pos = 0;
    bnd_addr = 0;
    for (w = 0; w < WORDS; w = w + 1) begin
        word = s_axis_tdata[32*w +: 32];
        keep = s_axis_tkeep[4*w +: 4];
        if (w >= pos_reg && keep != 4'h0) begin
            if (phase == 2'd2 || (phase == 2'd1 && keep == 4'hF && (word[31:30] == KIND_EOT
                                                                    || word[31:30] == KIND_EOE))) begin
                if (!more) rest_pos = w[7:0];
                more = 1'b1;
                phase = 2'd2;
            end else if (keep != 4'hF) begin
                bad_n = bad_n + 1;
            end else if (phase == 2'd0) begin
                case (word[31:30])
                    KIND_SPIKE: begin
                        if (word[29:16] == tick_reg && {16'd0, word[15:0]} < N_IN
                                && (!any_n || word[15:0] > last_n)) begin
                            raster_n[word[AW-1:0]] = 1'b1;
                            last_n = word[15:0];
                            any_n = 1'b1;
                        end else begin
                            bad_n = bad_n + 1;
                        end
                    end
                    KIND_EOT, KIND_EOE: begin
                        stop = 1'b1;
                        bnd_kind = word[31:30];
                        bnd_addr = word[15:0];
                        phase = word[31:30] == KIND_EOT ? 2'd1 : 2'd2;
                        if (word[29:16] != tick_reg) bad_n = bad_n + 1;
                    end
                    default: bad_n = bad_n + 1;  // reserved kind
                endcase
            end else begin  // phase 1: spikes of the next tick
                if (word[31:30] == KIND_SPIKE && word[29:16] == tick_reg + 14'd1 && {16'd0, word[15:0]} < N_IN
                        && (!any2_n || word[15:0] > last2_n)) begin
                    raster2_n[word[AW-1:0]] = 1'b1;
                    last2_n = word[15:0];
                    any2_n = 1'b1;
                end else begin
                    bad_n = bad_n + 1;
                end
            end
        end
    end
end

wire out_free = !m_valid_reg || m_ready;
wire padding = pad_reg != 0 || eoe_pending_reg;
wire active = s_axis_tvalid && !padding && !rst;
// the words up to the boundary are taken when the boundary can be handled (an EOT needs the output)
wire commit = active && (!stop || bnd_kind == KIND_EOE || out_free);
wire beat_done = commit && !more;
assign s_axis_tready = beat_done;

wire [31:0] total = {18'd0, tick_reg} + LAYERS;

assign m_data = m_data_reg;
assign m_valid = m_valid_reg;
assign event_start = commit && !in_event_reg;
assign event_end = commit && stop && bnd_kind == KIND_EOE;
assign err_malformed = commit ? bad_n : 8'd0;
assign err_overflow = event_end && total > 32'd16383;

// s_axis_tlast carries no information the EOE word does not
wire unused = s_axis_tlast;

always @(posedge clk) begin
    if (m_ready) begin
        m_valid_reg <= 1'b0;
    end
    if (commit) begin
        in_event_reg <= 1'b1;
        raster_reg <= raster_n;
        last_addr_reg <= last_n;
        any_reg <= any_n;
        pos_reg <= beat_done ? 8'd0 : rest_pos;
        if (stop && bnd_kind == KIND_EOT) begin
            m_data_reg <= {1'b0, 16'd0, raster_n};
            m_valid_reg <= 1'b1;
            raster_reg <= raster2_n;
            last_addr_reg <= last2_n;
            any_reg <= any2_n;
            tick_reg <= tick_reg + 1;
        end
        if (stop && bnd_kind == KIND_EOE) begin
            pad_reg <= LAYERS32[7:0];
            event_reg <= bnd_addr;
        end
    end else if (padding && out_free) begin
        m_valid_reg <= 1'b1;
        if (pad_reg != 0) begin
            // spikes after the last EOT (tick field = T) fall into the first appended tick
            m_data_reg <= {1'b0, 16'd0, raster_reg};
            raster_reg <= 0;
            tick_reg <= tick_reg + 1;
            pad_reg <= pad_reg - 1;
            eoe_pending_reg <= pad_reg == 1;
        end else begin
            m_data_reg <= {1'b1, event_reg, {N_IN{1'b0}}};
            eoe_pending_reg <= 1'b0;
            tick_reg <= 0;
            any_reg <= 1'b0;
            in_event_reg <= 1'b0;
        end
    end
    if (rst) begin
        m_valid_reg <= 1'b0;
        raster_reg <= 0;
        tick_reg <= 0;
        any_reg <= 1'b0;
        in_event_reg <= 1'b0;
        pad_reg <= 0;
        eoe_pending_reg <= 1'b0;
        pos_reg <= 0;
    end
end

endmodule

`resetall
