`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Simulation wrapper of nc_line_rx behind the behavioural deserialiser nc_line_deser, for a cocotb test that
 * drives the spike lines in simulated time with 0.2 ns resolution (a 4 ns clock, K = 20).
 */
/* verilator lint_off PROCASSINIT */
module nc_line_rx_tb #
(
    // number of spike lines
    parameter CHANNELS = 8,
    // ticks per event window
    parameter TICKS = 100,
    // layers of the network (empty rasters after the window)
    parameter LAYERS = 2
)
(
    input  wire [CHANNELS-1:0]  line,
    input  wire                 window,
    input  wire                 rst,
    output reg                  clk = 1'b0,
    output wire [CHANNELS+16:0] m_data,
    output wire                 m_valid,
    input  wire                 m_ready,
    output wire                 event_start,
    output wire                 event_end,
    output wire                 busy,
    output wire                 err_overrun
);

localparam K = 20;
always #2 clk = ~clk;
wire [CHANNELS*K-1:0] lines;
wire trigger;
nc_line_deser #(
    .CHANNELS(CHANNELS),
    .K(K)
) deser (
    .clk(clk),
    .line(line),
    .window(window),
    .lines(lines),
    .trigger(trigger)
);

nc_line_rx #(
    .CHANNELS(CHANNELS),
    .K(K),
    .TICKS(TICKS),
    .LAYERS(LAYERS)
) rx (
    .clk(clk),
    .rst(rst),
    .lines(lines),
    .trigger(trigger),
    .m_data(m_data),
    .m_valid(m_valid),
    .m_ready(m_ready),
    .event_start(event_start),
    .event_end(event_end),
    .busy(busy),
    .err_overrun(err_overrun)
);

endmodule

`resetall
