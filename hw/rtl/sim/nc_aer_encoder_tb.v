`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Simulation wrapper of nc_aer_encoder behind the behavioural deserialiser nc_line_deser, for a cocotb
 * test that drives the spike lines in simulated time with 0.2 ns resolution (a 4 ns clock, K = 20).
 */
/* verilator lint_off PROCASSINIT */
/* verilator lint_off BLKSEQ */
module nc_aer_encoder_tb #
(
    // number of spike lines
    parameter CHANNELS = 8,
    // ticks per event window
    parameter TICKS = 100
)
(
    input  wire [CHANNELS-1:0] line,
    input  wire                window,
    input  wire                rst,
    output reg                 clk = 1'b0,
    output wire [31:0]         m_axis_tdata,
    output wire                m_axis_tvalid,
    input  wire                m_axis_tready,
    output wire                m_axis_tlast,
    output wire                busy,
    output wire                err_overrun
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
nc_aer_encoder #(
    .CHANNELS(CHANNELS),
    .K(K),
    .TICKS(TICKS)
) enc (
    .clk(clk),
    .rst(rst),
    .lines(lines),
    .trigger(trigger),
    .m_axis_tdata(m_axis_tdata),
    .m_axis_tvalid(m_axis_tvalid),
    .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast),
    .busy(busy),
    .err_overrun(err_overrun)
);

endmodule

`resetall
