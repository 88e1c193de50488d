`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Behavioural deserialiser of the front end's spike lines, for testbenches that drive the lines in simulated
 * time with 0.2 ns resolution: `line` (CHANNELS bits) and `window` (high during the event window) are
 * sampled every 0.2 ns, 0.1 ns into each tick; at every rising edge of `clk` (a period of K * 0.2 ns: 4 ns
 * for K = 20, 5 ns for K = 25) the K samples of the past clock period become one beat of `lines` (sample j
 * of channel c at lines[j*CHANNELS + c], sample 0 the earliest), and a beat whose first sample saw `window`
 * rise pulses `trigger`.
 */
/* verilator lint_off PROCASSINIT */
/* verilator lint_off BLKSEQ */
module nc_line_deser #
(
    // number of spike lines
    parameter CHANNELS = 8,
    // 0.2 ns samples per clock period
    parameter K = 20
)
(
    input  wire                  clk,
    input  wire [CHANNELS-1:0]   line,
    input  wire                  window,
    output reg  [CHANNELS*K-1:0] lines = 0,
    output reg                   trigger = 1'b0
);

reg [CHANNELS*K-1:0] shift = 0;    // samples of the current clock period, sample 0 the earliest
reg [K-1:0] window_shift = 0;
reg window_prev = 1'b0;
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

endmodule

`resetall
