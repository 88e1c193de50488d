`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Spike lines of the front end, deserialised, -> the AER words of neurocal/aer.py.
 *
 * The front end samples CHANNELS spike lines every 0.2 ns tick; a transceiver hands them to the
 * fabric K ticks per clock (K = 20 at 250 MHz): sample j of channel c at lines[j*CHANNELS + c],
 * sample 0 the earliest. A trigger on a beat opens an event window of TICKS ticks (TICKS a multiple
 * of K) starting at that beat's sample 0. The window is captured at line rate (TICKS/K beats) into a
 * raster, then sent as AER words, one per cycle: each tick's spikes in ascending channel order, its
 * end-of-tick word, and after the last tick an end-of-event word (TICKS, event number mod 2^16).
 *
 * One window is held at a time: a trigger while a window is being captured or sent is dropped and
 * pulses err_overrun (the lines cannot be stalled).
 */
module nc_aer_encoder #
(
    // number of spike lines (AER channel = line index)
    parameter CHANNELS = 400,
    // ticks (0.2 ns samples) per clock
    parameter K = 20,
    // ticks per event window, a multiple of K
    parameter TICKS = 100
)
(
    input  wire                  clk,
    input  wire                  rst,

    input  wire [CHANNELS*K-1:0] lines,
    input  wire                  trigger,

    output wire [31:0]           m_axis_tdata,
    output wire                  m_axis_tvalid,
    input  wire                  m_axis_tready,
    output wire                  m_axis_tlast,

    output wire                  busy,
    output wire                  err_overrun
);

localparam BEATS = TICKS / K;
localparam CW = CHANNELS > 1 ? $clog2(CHANNELS) : 1;
localparam [1:0] KIND_SPIKE = 2'b00, KIND_EOT = 2'b01, KIND_EOE = 2'b10;
localparam [1:0] S_IDLE = 2'd0, S_CAPTURE = 2'd1, S_SEND = 2'd2;
localparam [31:0] LAST_BEAT32 = BEATS - 1;
localparam [31:0] LAST_TICK32 = TICKS - 1;
localparam [31:0] TICKS32 = TICKS;
localparam [13:0] TICKS14 = TICKS32[13:0];

reg [CHANNELS-1:0] raster_reg [0:TICKS-1];
reg [1:0] state_reg;
reg [31:0] beat_reg;               // beat being captured
reg [31:0] tick_reg;               // tick being sent
reg [CHANNELS-1:0] cur_reg;        // spikes of that tick not sent yet
reg cur_loaded_reg;
reg eoe_reg;                       // all ticks sent: the end-of-event word is next
reg [15:0] event_reg;
reg [31:0] m_data_reg;
reg m_valid_reg;

integer j;   // loop variable of the clocked block
integer jc;  // loop variable of the combinational priority encoder (not shared between processes)

// lowest pending channel of the current tick
reg [CW-1:0] ch;
always @* begin
    ch = 0;
    if (cur_reg != 0) begin
        for (jc = CHANNELS - 1; jc >= 0; jc = jc - 1) begin
            if (cur_reg[jc]) ch = jc[CW-1:0];
        end
    end
end

wire out_free = !m_valid_reg || m_axis_tready;
wire start = trigger && state_reg == S_IDLE;
assign err_overrun = trigger && state_reg != S_IDLE;
assign busy = state_reg != S_IDLE || m_valid_reg;
assign m_axis_tdata = m_data_reg;
assign m_axis_tvalid = m_valid_reg;
assign m_axis_tlast = m_data_reg[31:30] == KIND_EOE;

always @(posedge clk) begin
    if (m_axis_tready) m_valid_reg <= 1'b0;

    // capture: K ticks per beat into the raster
    if (start || state_reg == S_CAPTURE) begin
        for (j = 0; j < K; j = j + 1) begin
            raster_reg[(start ? 0 : beat_reg) * K + j] <= lines[j*CHANNELS +: CHANNELS];
        end
        beat_reg <= start ? 32'd1 : beat_reg + 1;
        state_reg <= S_CAPTURE;
        if ((start ? 32'd0 : beat_reg) == LAST_BEAT32) begin
            state_reg <= S_SEND;
            tick_reg <= 0;
            cur_loaded_reg <= 1'b0;
            eoe_reg <= 1'b0;
        end
    end

    // send: one word per cycle
    if (state_reg == S_SEND && out_free) begin
        if (!cur_loaded_reg && !eoe_reg) begin
            cur_reg <= raster_reg[tick_reg];
            cur_loaded_reg <= 1'b1;
        end else if (eoe_reg) begin
            m_data_reg <= {KIND_EOE, TICKS14, event_reg};
            m_valid_reg <= 1'b1;
            event_reg <= event_reg + 1;
            state_reg <= S_IDLE;
        end else if (cur_reg != 0) begin
            m_data_reg <= {KIND_SPIKE, tick_reg[13:0], {(16-CW){1'b0}}, ch};
            m_valid_reg <= 1'b1;
            cur_reg[ch] <= 1'b0;
        end else begin
            m_data_reg <= {KIND_EOT, tick_reg[13:0], 16'd0};
            m_valid_reg <= 1'b1;
            cur_loaded_reg <= 1'b0;
            tick_reg <= tick_reg + 1;
            eoe_reg <= tick_reg == LAST_TICK32;
        end
    end

    if (rst) begin
        state_reg <= S_IDLE;
        m_valid_reg <= 1'b0;
        event_reg <= 0;
        beat_reg <= 0;
        tick_reg <= 0;
        cur_loaded_reg <= 1'b0;
        eoe_reg <= 1'b0;
        cur_reg <= 0;
    end
end

// the tick field holds 14 bits; tick_reg counts to TICKS only
wire [17:0] unused_tick = tick_reg[31:14];

endmodule

`resetall
