`resetall
`timescale 1ns / 1ps
`default_nettype none

// NC_DEBUG_N, NC_DEBUG_W, NC_LINES_W, NC_AXIS_WORDS: nc_top's port widths (generated with nc_params.vh)
`include "nc_ports.vh"
// NC_REG_ADDR_W: the AXI4-Lite address width of the register map
`include "nc_regmap.vh"

/*
 * Simulation wrapper of nc_top built with the detector input (NC_INPUT = 1) behind the behavioural
 * deserialiser nc_line_deser: a cocotb test drives the CHANNELS spike lines and the event window in
 * simulated time with 0.2 ns resolution and the clock (K * 0.2 ns per period), and talks to the core over
 * its AXI4-Stream output, its AXI4-Lite registers and its debug output, all passed through.
 */
module nc_top_lines_tb #
(
    // spike lines: the network's inputs (nc_params.vh NC_SIZES[0])
    parameter CHANNELS = 8,
    // 0.2 ns samples per clock (nc_params.vh NC_LINE_K)
    parameter K = 25
)
(
    input  wire                clk,
    input  wire                rst,
    input  wire [CHANNELS-1:0] line,
    input  wire                window,

    output wire [31:0] m_axis_tdata,
    output wire        m_axis_tvalid,
    input  wire        m_axis_tready,
    output wire        m_axis_tlast,

    output wire [`NC_DEBUG_N-1:0] dbg_valid,
    output wire [`NC_DEBUG_W-1:0] dbg_data,

    input  wire [`NC_REG_ADDR_W-1:0] s_axil_awaddr,
    input  wire [2:0]  s_axil_awprot,
    input  wire        s_axil_awvalid,
    output wire        s_axil_awready,
    input  wire [31:0] s_axil_wdata,
    input  wire [3:0]  s_axil_wstrb,
    input  wire        s_axil_wvalid,
    output wire        s_axil_wready,
    output wire [1:0]  s_axil_bresp,
    output wire        s_axil_bvalid,
    input  wire        s_axil_bready,
    input  wire [`NC_REG_ADDR_W-1:0] s_axil_araddr,
    input  wire [2:0]  s_axil_arprot,
    input  wire        s_axil_arvalid,
    output wire        s_axil_arready,
    output wire [31:0] s_axil_rdata,
    output wire [1:0]  s_axil_rresp,
    output wire        s_axil_rvalid,
    input  wire        s_axil_rready
);

// check configuration: the lines the deserialiser makes are the lines the core was built for
initial begin
    if (CHANNELS * K != `NC_LINES_W) begin
        $error("Error: CHANNELS * K (%0d) differs from the core's NC_LINES_W (%0d) (instance %m)",
               CHANNELS * K, `NC_LINES_W);
        $finish;
    end
end

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

/* verilator lint_off UNUSEDSIGNAL */
wire s_axis_tready;  // low: a lines build takes no AER words
/* verilator lint_on UNUSEDSIGNAL */

nc_top dut (
    .clk(clk),
    .rst(rst),
    .s_axis_tdata({32*`NC_AXIS_WORDS{1'b0}}),
    .s_axis_tkeep({4*`NC_AXIS_WORDS{1'b0}}),
    .s_axis_tvalid(1'b0),
    .s_axis_tready(s_axis_tready),
    .s_axis_tlast(1'b0),
    .lines(lines),
    .trigger(trigger),
    .m_axis_tdata(m_axis_tdata),
    .m_axis_tvalid(m_axis_tvalid),
    .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast),
    .dbg_valid(dbg_valid),
    .dbg_data(dbg_data),
    .s_axil_awaddr(s_axil_awaddr),
    .s_axil_awprot(s_axil_awprot),
    .s_axil_awvalid(s_axil_awvalid),
    .s_axil_awready(s_axil_awready),
    .s_axil_wdata(s_axil_wdata),
    .s_axil_wstrb(s_axil_wstrb),
    .s_axil_wvalid(s_axil_wvalid),
    .s_axil_wready(s_axil_wready),
    .s_axil_bresp(s_axil_bresp),
    .s_axil_bvalid(s_axil_bvalid),
    .s_axil_bready(s_axil_bready),
    .s_axil_araddr(s_axil_araddr),
    .s_axil_arprot(s_axil_arprot),
    .s_axil_arvalid(s_axil_arvalid),
    .s_axil_arready(s_axil_arready),
    .s_axil_rdata(s_axil_rdata),
    .s_axil_rresp(s_axil_rresp),
    .s_axil_rvalid(s_axil_rvalid),
    .s_axil_rready(s_axil_rready)
);

endmodule

`resetall
