`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Simulation wrapper of nc_aer_encoder with a behavioural deserialiser, for a cocotb test that drives
 * the spike lines in simulated time with 0.2 ns resolution: `line` (CHANNELS bits) and `window`
 * (high during the event window) are sampled every 0.2 ns, 0.1 ns into each tick; at every rising
 * edge of the 250 MHz clock the K = 20 samples of the past 4 ns become one beat of `lines`, and a
 * beat whose first sample saw `window` rise triggers the encoder.
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

reg [CHANNELS*K-1:0] shift = 0;    // samples of the current 4 ns, sample 0 the earliest
reg [K-1:0] window_shift = 0;
reg window_prev = 1'b0;
reg [CHANNELS*K-1:0] lines = 0;
reg trigger = 1'b0;
integer n = 0;

initial begin
    #0.1;
    forever begin
        shift[n*CHANNELS +: CHANNELS] = line;
        window_shift[n] = window && !window_prev;
        window_prev = window;
        n = n + 1;
        #0.2;
    end
end

always @(posedge clk) begin
    lines <= shift;
    trigger <= window_shift[0];
    n = 0;
    window_shift = 0;
end

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
