`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Detector-side input stage: the front end's spike lines, deserialised, -> the spike rasters the layers
 * consume, with no AER words in between (the same tokens as nc_aer_rx: {eoe, event[15:0], raster}).
 *
 * The front end samples CHANNELS spike lines every 0.2 ns tick; a transceiver hands them to the fabric
 * K ticks per clock: sample j of channel c at lines[j*CHANNELS + c], sample 0 the earliest. A trigger on
 * a beat opens an event window of TICKS ticks (a multiple of K) starting at that beat's sample 0; the
 * window is captured at line rate, K ticks per clock (the lines cannot be stalled), and its rasters
 * leave one per cycle while the output is free, each as soon as its beat is captured:
 *
 *   output : rasters 0 .. TICKS-1, then LAYERS empty rasters (the network runs TICKS + LAYERS ticks),
 *            then the end-of-event token with the event number (windows counted mod 2^16)
 *
 * so the core runs at its own rate from the detector side: the first raster leaves two cycles after the
 * trigger, and the window costs what layer 0 takes for it (at least TICKS + LAYERS + 1 cycles).
 *
 * One window is held at a time: a trigger before the previous window's end-of-event token has left is
 * dropped and pulses err_overrun (the host sees it counted).
 */
module nc_line_rx #
(
    // number of spike lines (input channel = line index)
    parameter CHANNELS = 400,
    // ticks (0.2 ns samples) per clock
    parameter K = 20,
    // ticks per event window, a multiple of K
    parameter TICKS = 100,
    // number of layers: empty ticks appended after the window
    parameter LAYERS = 3
)
(
    input  wire                  clk,
    input  wire                  rst,

    input  wire [CHANNELS*K-1:0] lines,
    input  wire                  trigger,

    output wire [CHANNELS+16:0]  m_data,     // {eoe, event, raster}
    output wire                  m_valid,
    input  wire                  m_ready,

    output wire                  event_start,  // a window opened
    output wire                  event_end,    // its end-of-event token left
    output wire                  busy,
    output wire                  err_overrun   // pulse: a trigger dropped
);

localparam BEATS = (TICKS + K - 1) / K;          // rows of the window buffer, a beat of K ticks each
localparam AW = BEATS > 1 ? $clog2(BEATS) : 1;   // address of a row
localparam BW = $clog2(BEATS + 1);               // beats 0 .. BEATS
localparam SW = K > 1 ? $clog2(K) : 1;           // tick within a beat
localparam TW = $clog2(TICKS + LAYERS + 1);
localparam [31:0] TOTAL32 = TICKS + LAYERS;
localparam [TW-1:0] TOTAL = TOTAL32[TW-1:0];
localparam [31:0] TICKS32 = TICKS;
localparam [31:0] BEATS32 = BEATS;
localparam [31:0] KM132 = K - 1;
localparam [BW-1:0] NBEATS = BEATS32[BW-1:0];
localparam [SW-1:0] LAST_SLOT = KM132[SW-1:0];

// check configuration
initial begin
    if (K < 1 || TICKS < K || TICKS % K != 0) begin
        $error("Error: TICKS (%0d) must be a positive multiple of K (%0d) (instance %m)", TICKS, K);
        $finish;
    end
    if (CHANNELS < 1 || CHANNELS > 65536) begin
        $error("Error: CHANNELS (%0d) must be 1..65536, the AER address range (instance %m)", CHANNELS);
        $finish;
    end
    if (TICKS + LAYERS > 16383) begin
        $error("Error: TICKS + LAYERS (%0d) must fit the 14-bit tick field (instance %m)", TICKS + LAYERS);
        $finish;
    end
end

/*
 * The window buffer is addressed by beat: row b holds the whole beat b (ticks b*K .. b*K+K-1, tick b*K+s at
 * bits [s*CHANNELS +: CHANNELS]), written whole at the beat counter, so a bit has one writer and no per-tick
 * write mux. Raster t is read as row t / K, slice t % K, with both kept as counters (no divide): a raster
 * t is captured once its row is (t < captured ticks  <=>  t / K < captured beats).
 */
reg [CHANNELS*K-1:0] beat_mem [0:BEATS-1];
reg open_reg;                       // a window is held (captured or being sent)
reg [BW-1:0] wbeat_reg;             // beats of the window captured so far
reg [BW-1:0] rbeat_reg;             // row of raster sent_reg (sent_reg / K while sent_reg < TICKS)
reg [SW-1:0] rslot_reg;             // its slice (sent_reg % K)
reg [TW-1:0] sent_reg;              // rasters sent so far (TICKS + LAYERS, then the end-of-event token)
reg [15:0] event_reg;
reg [CHANNELS+16:0] m_data_reg;
reg m_valid_reg;

wire out_free = !m_valid_reg || m_ready;
wire start = trigger && !open_reg;
wire capturing = open_reg && wbeat_reg < NBEATS;
wire [31:0] sent32 = {{(32-TW){1'b0}}, sent_reg};
wire padding = sent32 >= TICKS32;
// raster sent_reg is ready once captured (padding rasters always are)
wire can_send = open_reg && (padding || rbeat_reg < wbeat_reg);
wire send_eoe = can_send && sent_reg == TOTAL;
wire [AW-1:0] waddr = start ? {AW{1'b0}} : wbeat_reg[AW-1:0];
wire [CHANNELS*K-1:0] rbeat = beat_mem[rbeat_reg[AW-1:0]];
// slice rslot_reg of the row: an AND-OR select over the K slices (a shift by rslot_reg * CHANNELS would
// make yosys build a barrel shifter over the whole row)
reg [CHANNELS-1:0] raster;
integer s;
always @* begin
    raster = {CHANNELS{1'b0}};
    for (s = 0; s < K; s = s + 1) begin
        raster = raster | (rbeat[s*CHANNELS +: CHANNELS] & {CHANNELS{rslot_reg == s[SW-1:0]}});
    end
end

assign m_data = m_data_reg;
assign m_valid = m_valid_reg;
assign event_start = start;
assign event_end = send_eoe && out_free;
assign busy = open_reg || m_valid_reg;
assign err_overrun = trigger && open_reg;

// capture: a beat per clock, from the trigger's beat on
always @(posedge clk) begin
    if (start || capturing) begin
        beat_mem[waddr] <= lines;
    end
end

always @(posedge clk) begin
    if (m_ready) m_valid_reg <= 1'b0;

    if (start || capturing) begin
        wbeat_reg <= (start ? {BW{1'b0}} : wbeat_reg) + 1'b1;
    end

    if (can_send && out_free) begin
        m_valid_reg <= 1'b1;
        if (send_eoe) begin
            m_data_reg <= {1'b1, event_reg, {CHANNELS{1'b0}}};
            event_reg <= event_reg + 1'b1;
            open_reg <= 1'b0;
        end else begin
            m_data_reg <= {1'b0, 16'd0, padding ? {CHANNELS{1'b0}} : raster};
            sent_reg <= sent_reg + 1'b1;
            if (!padding) begin
                if (rslot_reg == LAST_SLOT) begin
                    rslot_reg <= 0;
                    rbeat_reg <= rbeat_reg + 1'b1;
                end else begin
                    rslot_reg <= rslot_reg + 1'b1;
                end
            end
        end
    end

    if (start) begin
        open_reg <= 1'b1;
        sent_reg <= 0;
        rbeat_reg <= 0;
        rslot_reg <= 0;
    end

    if (rst) begin
        open_reg <= 1'b0;
        wbeat_reg <= 0;
        rbeat_reg <= 0;
        rslot_reg <= 0;
        sent_reg <= 0;
        event_reg <= 0;
        m_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
