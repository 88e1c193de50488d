`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Small synchronous FIFO with valid/ready on both sides. s_ready depends on registers only,
 * so a chain of stages joined by FIFOs has no combinational ready path from end to end.
 */
module nc_fifo #
(
    // word width
    parameter WIDTH = 32,
    // log2 of the depth (depth = 2^DEPTH_LOG2 words)
    parameter DEPTH_LOG2 = 2
)
(
    input  wire             clk,
    input  wire             rst,

    input  wire [WIDTH-1:0] s_data,
    input  wire             s_valid,
    output wire             s_ready,

    output wire [WIDTH-1:0] m_data,
    output wire             m_valid,
    input  wire             m_ready
);

localparam DEPTH = 1 << DEPTH_LOG2;

reg [WIDTH-1:0] mem_reg [0:DEPTH-1];
reg [DEPTH_LOG2:0] wr_ptr_reg, rd_ptr_reg;

wire empty = wr_ptr_reg == rd_ptr_reg;
wire full = wr_ptr_reg == {~rd_ptr_reg[DEPTH_LOG2], rd_ptr_reg[DEPTH_LOG2-1:0]};

assign s_ready = !full;
assign m_valid = !empty;
assign m_data = mem_reg[rd_ptr_reg[DEPTH_LOG2-1:0]];

always @(posedge clk) begin
    if (s_valid && !full) begin
        mem_reg[wr_ptr_reg[DEPTH_LOG2-1:0]] <= s_data;
        wr_ptr_reg <= wr_ptr_reg + 1;
    end
    if (m_ready && !empty) begin
        rd_ptr_reg <= rd_ptr_reg + 1;
    end
    if (rst) begin
        wr_ptr_reg <= 0;
        rd_ptr_reg <= 0;
    end
end

endmodule

`resetall
