`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * The accelerator: AER words in (AXI4-Stream), the integer network's output stream out
 * (AXI4-Stream, the output format of neurocal/aer.py), registers over AXI4-Lite.
 *
 *   s_axis -> nc_aer_rx -> FIFO -> layer 0 -> FIFO -> layer 1 -> ... -> layer L-1 -> FIFO -> m_axis
 *
 * Layers run concurrently, each on its own event: event e+1 enters layer 0 while event e is still
 * in the later layers. The output keeps the last layer's spike, voltage and end-of-event words and
 * drops its end-of-tick words; m_axis_tlast marks the end-of-event word.
 *
 * The network's shape comes from the generated header nc_params.vh (neurocal.hw.generate), its
 * integers from the memory files it names, read at time zero ($readmemh): one build runs any
 * network of the same shape and widths once its memory files are rewritten.
 */
module nc_top
(
    input  wire        clk,
    input  wire        rst,

    input  wire [31:0] s_axis_tdata,
    input  wire        s_axis_tvalid,
    output wire        s_axis_tready,
    input  wire        s_axis_tlast,

    output wire [31:0] m_axis_tdata,
    output wire        m_axis_tvalid,
    input  wire        m_axis_tready,
    output wire        m_axis_tlast,

    input  wire [7:0]  s_axil_awaddr,
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
    input  wire [7:0]  s_axil_araddr,
    input  wire [2:0]  s_axil_arprot,
    input  wire        s_axil_arvalid,
    output wire        s_axil_arready,
    output wire [31:0] s_axil_rdata,
    output wire [1:0]  s_axil_rresp,
    output wire        s_axil_rvalid,
    input  wire        s_axil_rready
);

// NC_LAYERS, NC_SIZES (layer i: inputs [32*i +: 32], neurons [32*(i+1) +: 32]), NC_LANES,
// NC_ACC_W, NC_U_W (layer i at [32*i +: 32]), NC_MEM_PREFIX, NC_FIFO_LOG2, NC_WRITABLE
`include "nc_params.vh"

localparam L = NC_LAYERS;
localparam [1:0] KIND_EOT = 2'b01, KIND_EOE = 2'b10;

// stage i: src i (0: rx, i > 0: layer i-1) -> FIFO i -> dst i (i < L: layer i, L: output)
wire [31:0] src_data [0:L];
wire [L:0] src_valid, src_ready;
wire [31:0] dst_data [0:L];
wire [L:0] dst_valid, dst_ready;
wire [L-1:0] layer_busy;
wire [L-1:0] layer_mem_overflow;

// widest memory word of any layer (weights: LANES * 9 bits; parameters: 61 bits)
function integer mem_width;
    input integer n_layers;
    integer j, w;
    begin
        w = 64;
        for (j = 0; j < n_layers; j = j + 1) begin
            if (NC_LANES[32*j +: 32] * 9 > w) w = NC_LANES[32*j +: 32] * 9;
        end
        mem_width = w;
    end
endfunction
localparam MEM_W = mem_width(NC_LAYERS);

wire mem_we;
wire [7:0] mem_layer;
wire [1:0] mem_kind;
wire [31:0] mem_addr;
wire [MEM_W-1:0] mem_data;

wire event_start, event_end, err_malformed, err_overflow_rx;

nc_aer_rx #(
    .N_IN(NC_SIZES[31:0]),
    .LAYERS(L)
) rx (
    .clk(clk),
    .rst(rst),
    .s_axis_tdata(s_axis_tdata),
    .s_axis_tvalid(s_axis_tvalid),
    .s_axis_tready(s_axis_tready),
    .s_axis_tlast(s_axis_tlast),
    .m_data(src_data[0]),
    .m_valid(src_valid[0]),
    .m_ready(src_ready[0]),
    .event_start(event_start),
    .event_end(event_end),
    .err_malformed(err_malformed),
    .err_overflow(err_overflow_rx)
);

genvar i;
generate
    for (i = 0; i <= L; i = i + 1) begin : stage
        nc_fifo #(
            .WIDTH(32),
            .DEPTH_LOG2(NC_FIFO_LOG2)
        ) fifo (
            .clk(clk),
            .rst(rst),
            .s_data(src_data[i]),
            .s_valid(src_valid[i]),
            .s_ready(src_ready[i]),
            .m_data(dst_data[i]),
            .m_valid(dst_valid[i]),
            .m_ready(dst_ready[i])
        );
        if (i < L) begin : layer
            nc_lif_layer #(
                .N_IN(NC_SIZES[32*i +: 32]),
                .N_OUT(NC_SIZES[32*(i+1) +: 32]),
                .LANES(NC_LANES[32*i +: 32]),
                .ACC_W(NC_ACC_W[32*i +: 32]),
                .U_W(NC_U_W[32*i +: 32]),
                .EMIT_V(i == L - 1 ? 1 : 0),
                .LAYER(i),
                .MEM_PREFIX(NC_MEM_PREFIX),
                .MEM_W(MEM_W),
                .WRITABLE(NC_WRITABLE)
            ) lif (
                .clk(clk),
                .rst(rst),
                .s_data(dst_data[i]),
                .s_valid(dst_valid[i]),
                .s_ready(dst_ready[i]),
                .m_data(src_data[i+1]),
                .m_valid(src_valid[i+1]),
                .m_ready(src_ready[i+1]),
                .busy(layer_busy[i]),
                .mem_we(mem_we && mem_layer == i && mem_kind != 2'd3),
                .mem_kind(mem_kind),
                .mem_addr(mem_addr),
                .mem_data(mem_data),
                .mem_overflow(layer_mem_overflow[i])
            );
        end
    end
endgenerate

// output: the last layer's words without its end-of-tick markers
wire [1:0] out_kind = dst_data[L][31:30];
assign m_axis_tdata = dst_data[L];
assign m_axis_tvalid = dst_valid[L] && out_kind != KIND_EOT;
assign m_axis_tlast = out_kind == KIND_EOE;
assign dst_ready[L] = m_axis_tready || out_kind == KIND_EOT;
wire event_out = m_axis_tvalid && m_axis_tready && m_axis_tlast;

// cycles per event: a queue of start times, one entry per event in flight
reg [31:0] cycle_reg;
always @(posedge clk) begin
    cycle_reg <= rst ? 32'd0 : cycle_reg + 1;
end
wire [31:0] start_cycle;
wire ts_ready, ts_valid;
nc_fifo #(
    .WIDTH(32),
    .DEPTH_LOG2(4)
) starts (
    .clk(clk),
    .rst(rst),
    .s_data(cycle_reg),
    .s_valid(event_start),
    .s_ready(ts_ready),
    .m_data(start_cycle),
    .m_valid(ts_valid),
    .m_ready(event_out)
);
// a memory write to a layer that does not exist, or outside the selected memory
wire mem_bad = (mem_we && mem_kind != 2'd3 && {24'd0, mem_layer} >= L) || (mem_we && mem_kind == 2'd3 && mem_addr != 0)
               || |layer_mem_overflow;
wire err_overflow = err_overflow_rx || (event_start && !ts_ready) || mem_bad;
wire [31:0] event_cycles = ts_valid ? cycle_reg - start_cycle + 1 : 32'd0;

reg [63:0] hash_mem [0:0];
initial begin
    $readmemh({NC_MEM_PREFIX, "hash.mem"}, hash_mem);
end
always @(posedge clk) begin
    if (mem_we && mem_kind == 2'd3 && mem_addr == 0) hash_mem[0] <= mem_data[63:0];
end

nc_axil_regs #(
    .LAYERS(L),
    .N_IN(NC_SIZES[31:0]),
    .MEM_W(MEM_W)
) regs (
    .clk(clk),
    .rst(rst),
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
    .s_axil_rready(s_axil_rready),
    .content_hash(hash_mem[0]),
    .busy(|layer_busy || |dst_valid || |src_valid),
    .event_in(event_end),
    .event_out(event_out),
    .event_cycles(event_cycles),
    .err_malformed(err_malformed),
    .err_overflow(err_overflow),
    .mem_we(mem_we),
    .mem_layer(mem_layer),
    .mem_kind(mem_kind),
    .mem_addr(mem_addr),
    .mem_data(mem_data)
);

endmodule

`resetall
