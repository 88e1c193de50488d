`resetall
`timescale 1ns / 1ps
`default_nettype none

// NC_AXIS_WORDS: AER words per s_axis beat; NC_DEBUG_N, NC_DEBUG_W: widths of dbg_valid, dbg_data; NC_LINES_W:
// width of the detector lines (generated beside nc_params.vh; port widths need them first)
`include "nc_ports.vh"
// NC_REG_ADDR_W: the AXI4-Lite address width of the register map (neurocal/hw/regmap.py)
`include "nc_regmap.vh"

/*
 * The accelerator: events in, the integer network's output stream out (AXI4-Stream, the output format of
 * neurocal/aer.py), registers over AXI4-Lite. The input is chosen at build time (NC_INPUT):
 *
 *   NC_INPUT 0 (AER):   s_axis -> nc_aer_rx  -> FIFO -> layer 0 -> FIFO -> ... -> layer L-1 -> FIFO -> nc_aer_tx -> m_axis
 *   NC_INPUT 1 (lines): lines  -> nc_line_rx -> FIFO -> layer 0 -> ...
 *
 * AER: AER words over AXI4-Stream, NC_WORDS words per beat (the host's DMA). Lines: the detector front end's
 * NC_SIZES[0] spike lines, deserialised NC_LINE_K 0.2 ns samples per clock (sample j of channel c at
 * lines[j*n_in + c]); `trigger` on a beat opens a window of NC_LINE_TICKS ticks at that beat's sample 0, and
 * layer 0 gets the window's rasters straight from the lines, no AER word in between (nc_line_rx.v). The
 * port of the other input is unused: s_axis_tready is low in a lines build, `lines` is one ignored bit in
 * an AER build.
 *
 * Between the stages a tick is one token: the tick's spike raster (one bit per presynaptic neuron);
 * an end-of-event token closes the event (from the last layer it carries the final voltages).
 * Layers run concurrently, each on its own tick: layer 1 updates tick t while layer 0 accumulates
 * tick t + 1, and event e+1 enters layer 0 while event e is still in the later layers.
 *
 * The network's shape comes from the generated header nc_params.vh (neurocal.hw.generate), its
 * integers from the memory files it names, read at time zero ($readmemh): one build runs any
 * network of the same shape and widths once its memory files are rewritten.
 *
 * Debug output (NC_DEBUG = 1, for co-simulation: it keeps every hidden raster observable, which costs
 * resources on a board): dbg_valid[l] is high in a cycle where hidden layer l (0 .. L-2) hands a token to
 * the next stage, and dbg_data holds that token, {eoe, event[15:0], raster[n_{l+1}-1:0]}, from bit
 * offset_l = sum_{j<l} (n_{j+1} + 17). Token k of an event is layer l's spike raster of tick k (T + L of
 * them), then the end-of-event token. With NC_DEBUG = 0 both are one bit, tied to zero.
 */
module nc_top
(
    input  wire        clk,
    input  wire        rst,

    input  wire [32*`NC_AXIS_WORDS-1:0] s_axis_tdata,
    input  wire [4*`NC_AXIS_WORDS-1:0]  s_axis_tkeep,
    input  wire        s_axis_tvalid,
    output wire        s_axis_tready,
    input  wire        s_axis_tlast,

    input  wire [`NC_LINES_W-1:0] lines,
    input  wire        trigger,

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

// NC_LAYERS, NC_SIZES (layer i: inputs [32*i +: 32], neurons [32*(i+1) +: 32]), NC_LANES, NC_ROWS,
// NC_BLOCK_BANKS, NC_ACC_W, NC_U_W (layer i at [32*i +: 32]), NC_WORDS, NC_MEM_PREFIX, NC_FIFO_LOG2, NC_WRITABLE,
// NC_SRC_HASH, NC_PROFILE (capability registers), NC_DEBUG, NC_INPUT (0 AER, 1 lines), NC_LINE_K, NC_LINE_TICKS
`include "nc_params.vh"

localparam L = NC_LAYERS;

// payload of the tokens of stage i: the raster of layer i's inputs; stage L: the output voltages
function integer payload;
    input integer i;
    begin
        payload = i < NC_LAYERS ? NC_SIZES[32*i +: 32] : 24 * NC_SIZES[32*NC_LAYERS +: 32];
    end
endfunction
function integer max_payload;
    input integer n;
    integer j, w;
    begin
        w = 1;
        for (j = 0; j <= n; j = j + 1) begin
            if (payload(j) > w) w = payload(j);
        end
        max_payload = w;
    end
endfunction
localparam TW = max_payload(NC_LAYERS) + 17;

// stage i: src i (0: rx, i > 0: layer i-1) -> FIFO i -> dst i (i < L: layer i, L: tx); a token of
// stage i uses the low payload(i) + 17 bits
/* verilator lint_off UNUSEDSIGNAL */
wire [TW-1:0] src_data [0:L];
wire [TW-1:0] dst_data [0:L];
/* verilator lint_on UNUSEDSIGNAL */
wire [L:0] src_valid, src_ready;
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
wire [L*MEM_W-1:0] layer_mem_rdata;   // layer i's read-back word at [i*MEM_W +: MEM_W], valid with its rvalid
wire [L-1:0] layer_mem_rvalid;

wire mem_we, mem_re;
wire [7:0] mem_layer;
wire [1:0] mem_kind;
wire [31:0] mem_addr;
wire [MEM_W-1:0] mem_data;

wire event_start, event_end, err_overflow_rx, err_framing, rx_busy;
wire [7:0] err_malformed_rx;
// a broken frame (tlast without an end-of-event word) counts as one malformed word until the register map
// gives it a counter of its own
wire [7:0] err_malformed = err_malformed_rx + {7'd0, err_framing};
localparam N0 = NC_SIZES[31:0];

generate
    if (NC_INPUT == 1) begin : line_input
        wire err_overrun;
        nc_line_rx #(
            .CHANNELS(N0),
            .K(NC_LINE_K),
            .TICKS(NC_LINE_TICKS),
            .LAYERS(L)
        ) rx (
            .clk(clk),
            .rst(rst),
            .lines(lines),
            .trigger(trigger),
            .m_data(src_data[0][N0+16:0]),
            .m_valid(src_valid[0]),
            .m_ready(src_ready[0]),
            .event_start(event_start),
            .event_end(event_end),
            .busy(rx_busy),
            .err_overrun(err_overrun)
        );
        assign s_axis_tready = 1'b0;
        assign err_malformed_rx = 8'd0;
        assign err_framing = 1'b0;
        // a trigger while a window is held is lost: counted as an overflow (the host sees EVENTS_IN lag)
        assign err_overflow_rx = err_overrun;
        wire unused_axis = &{1'b0, s_axis_tdata, s_axis_tkeep, s_axis_tvalid, s_axis_tlast, 1'b0};
    end else begin : aer_input
        nc_aer_rx #(
            .N_IN(N0),
            .LAYERS(L),
            .WORDS(NC_WORDS)
        ) rx (
            .clk(clk),
            .rst(rst),
            .s_axis_tdata(s_axis_tdata),
            .s_axis_tkeep(s_axis_tkeep),
            .s_axis_tvalid(s_axis_tvalid),
            .s_axis_tready(s_axis_tready),
            .s_axis_tlast(s_axis_tlast),
            .m_data(src_data[0][N0+16:0]),
            .m_valid(src_valid[0]),
            .m_ready(src_ready[0]),
            .event_start(event_start),
            .event_end(event_end),
            .err_malformed(err_malformed_rx),
            .err_overflow(err_overflow_rx),
            .err_framing(err_framing)
        );
        assign rx_busy = 1'b0;  // nc_aer_rx holds nothing between its output tokens
        wire unused_lines = &{1'b0, lines, trigger, 1'b0};
    end
endgenerate

generate
    if (TW > N0 + 17) begin : rx_pad
        assign src_data[0][TW-1:N0+17] = 0;
    end
endgenerate

genvar i;
generate
    for (i = 0; i <= L; i = i + 1) begin : stage
        localparam PW = payload(i);
        nc_fifo #(
            .WIDTH(PW + 17),
            .DEPTH_LOG2(NC_FIFO_LOG2)
        ) fifo (
            .clk(clk),
            .rst(rst),
            .s_data(src_data[i][PW+16:0]),
            .s_valid(src_valid[i]),
            .s_ready(src_ready[i]),
            .m_data(dst_data[i][PW+16:0]),
            .m_valid(dst_valid[i]),
            .m_ready(dst_ready[i])
        );
        if (TW > PW + 17) begin : pad
            assign dst_data[i][TW-1:PW+17] = 0;
        end
        if (i < L) begin : layer
            localparam OW = payload(i + 1);
            if (TW > OW + 17) begin : out_pad
                assign src_data[i+1][TW-1:OW+17] = 0;
            end
            nc_lif_layer #(
                .N_IN(NC_SIZES[32*i +: 32]),
                .N_OUT(NC_SIZES[32*(i+1) +: 32]),
                .LANES(NC_LANES[32*i +: 32]),
                .LIF_LANES(NC_LIF_LANES[32*i +: 32]),
                .ROWS(NC_ROWS[32*i +: 32]),
                .BLOCK_BANKS(NC_BLOCK_BANKS[32*i +: 32]),
                .ACC_W(NC_ACC_W[32*i +: 32]),
                .U_W(NC_U_W[32*i +: 32]),
                .EMIT_V(i == L - 1 ? 1 : 0),
                .LAYER(i),
                .MEM_PREFIX(NC_MEM_PREFIX),
                .MEM_W(MEM_W),
                .WRITABLE(NC_WRITABLE),
                .OUT_W(OW)
            ) lif (
                .clk(clk),
                .rst(rst),
                .s_data(dst_data[i][PW+16:0]),
                .s_valid(dst_valid[i]),
                .s_ready(dst_ready[i]),
                .m_data(src_data[i+1][OW+16:0]),
                .m_valid(src_valid[i+1]),
                .m_ready(src_ready[i+1]),
                .busy(layer_busy[i]),
                .mem_we(mem_we && mem_layer == i && mem_kind != 2'd3),
                .mem_kind(mem_kind),
                .mem_addr(mem_addr),
                .mem_data(mem_data),
                .mem_overflow(layer_mem_overflow[i]),
                .mem_re(mem_re && mem_layer == i && mem_kind != 2'd3),
                .mem_rdata(layer_mem_rdata[i*MEM_W +: MEM_W]),
                .mem_rvalid(layer_mem_rvalid[i])
            );
        end
    end
endgenerate

// debug output: the tokens between hidden layers, where each is handed on
function integer debug_offset;
    input integer l;
    integer j, w;
    begin
        w = 0;
        for (j = 0; j < l; j = j + 1) w = w + NC_SIZES[32*(j+1) +: 32] + 17;
        debug_offset = w;
    end
endfunction
// check configuration: the port widths (nc_ports.vh) must match the shape (nc_params.vh)
initial begin
    if (NC_INPUT != 0 && NC_INPUT != 1) begin
        $error("Error: NC_INPUT (%0d) must be 0 (AER words) or 1 (detector lines) (instance %m)", NC_INPUT);
        $finish;
    end
    if (`NC_LINES_W != (NC_INPUT == 1 ? N0 * NC_LINE_K : 1)) begin
        $error("Error: NC_LINES_W of nc_ports.vh does not match nc_params.vh's input; generate both together (instance %m)");
        $finish;
    end
    if (NC_DEBUG != 0 && L > 1 && (`NC_DEBUG_N != L - 1 || `NC_DEBUG_W != debug_offset(L - 1))) begin
        $error("Error: NC_DEBUG_N/NC_DEBUG_W of nc_ports.vh do not match the shape of nc_params.vh; generate both together (instance %m)");
        $finish;
    end
end

generate
    if (NC_DEBUG != 0 && L > 1) begin : debug
        for (i = 1; i < L; i = i + 1) begin : hidden
            localparam NW = NC_SIZES[32*i +: 32] + 17;
            assign dbg_valid[i-1] = src_valid[i] && src_ready[i];
            // zero between handshakes: one record holds defined values of every layer
            assign dbg_data[debug_offset(i-1) +: NW] = dbg_valid[i-1] ? src_data[i][NW-1:0] : {NW{1'b0}};
        end
    end else begin : no_debug
        assign dbg_valid = 0;
        assign dbg_data = 0;
    end
endgenerate

// output: the last layer's tokens as AER words
localparam PL = payload(L);
wire tx_busy, tx_eoe;  // tx_eoe: the output word is an end-of-event word
nc_aer_tx #(
    .N_OUT(NC_SIZES[32*L +: 32])
) tx (
    .clk(clk),
    .rst(rst),
    .s_data(dst_data[L][PL+16:0]),
    .s_valid(dst_valid[L]),
    .s_ready(dst_ready[L]),
    .m_axis_tdata(m_axis_tdata),
    .m_axis_tvalid(m_axis_tvalid),
    .m_axis_tready(m_axis_tready),
    .m_axis_tlast(tx_eoe),
    .busy(tx_busy)
);
wire event_out = m_axis_tvalid && m_axis_tready && tx_eoe;

// Output framing follows the input's: an event's end-of-event word leaves with tlast iff the event was closed
// at the end of an s_axis beat with tlast (its end-of-event word the beat's last word, or tlast closing a
// broken event), so a batch of events sent as one DMA transfer comes back as one packet. From the detector
// lines every event is a packet of its own. The flag waits in a queue beside the start times for the event's
// last output word; a full queue is an overflow like theirs.
wire event_in_last = NC_INPUT == 1 ? event_end : event_end && s_axis_tvalid && s_axis_tready && s_axis_tlast;
wire out_last, lasts_ready, lasts_valid;
nc_fifo #(
    .WIDTH(1),
    .DEPTH_LOG2(4)
) lasts (
    .clk(clk),
    .rst(rst),
    .s_data(event_in_last),
    .s_valid(event_end),
    .s_ready(lasts_ready),
    .m_data(out_last),
    .m_valid(lasts_valid),
    .m_ready(event_out)
);
assign m_axis_tlast = tx_eoe && out_last && lasts_valid;

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
// a memory access to a layer that does not exist, or outside the selected memory (the layers check their own)
wire mem_any = mem_we || mem_re;
wire mem_nowhere = (mem_kind != 2'd3 && {24'd0, mem_layer} >= L) || (mem_kind == 2'd3 && mem_addr != 0);
wire mem_bad = (mem_any && mem_nowhere) || |layer_mem_overflow;
wire err_overflow = err_overflow_rx || (event_start && !ts_ready) || (event_end && !lasts_ready) || mem_bad;
wire [31:0] event_cycles = ts_valid ? cycle_reg - start_cycle + 1 : 32'd0;

reg [63:0] hash_mem [0:0];
initial begin
    $readmemh({NC_MEM_PREFIX, "hash.mem"}, hash_mem);
end
wire [63:0] hash_word = hash_mem[0];
always @(posedge clk) begin
    if (mem_we && mem_kind == 2'd3 && mem_addr == 0) hash_mem[0] <= mem_data[63:0];
end

// memory read-back: the addressed layer answers 2 cycles after mem_re; the hash word, and 0 for an
// access outside every memory, answer in the same 2 cycles, so exactly one answer per read
reg [1:0] hash_rd_reg, nowhere_rd_reg;
always @(posedge clk) begin
    hash_rd_reg <= {hash_rd_reg[0], mem_re && mem_kind == 2'd3 && mem_addr == 0};
    nowhere_rd_reg <= {nowhere_rd_reg[0], mem_re && mem_nowhere};
    if (rst) begin
        hash_rd_reg <= 2'b00;
        nowhere_rd_reg <= 2'b00;
    end
end
reg [MEM_W-1:0] mem_rdata;
integer q;
always @* begin
    mem_rdata = {MEM_W{1'b0}};
    if (hash_rd_reg[1]) mem_rdata[63:0] = hash_word;
    for (q = 0; q < L; q = q + 1) begin
        if (layer_mem_rvalid[q]) mem_rdata = mem_rdata | layer_mem_rdata[q*MEM_W +: MEM_W];
    end
end
wire mem_rvalid = hash_rd_reg[1] || nowhere_rd_reg[1] || |layer_mem_rvalid;

// an event is in flight from its first word in until its last token has left: memory accesses wait
reg in_event_reg;
always @(posedge clk) begin
    if (event_start) in_event_reg <= 1'b1;
    if (event_end) in_event_reg <= 1'b0;
    if (rst) in_event_reg <= 1'b0;
end
wire core_busy = in_event_reg || event_start || rx_busy || |layer_busy || tx_busy || |dst_valid || |src_valid;

nc_axil_regs #(
    .LAYERS(L),
    .SIZES(NC_SIZES),
    .LANES(NC_LANES),
    .LIF_LANES(NC_LIF_LANES),
    .BANKS(NC_ROWS),
    .BLOCK_BANKS(NC_BLOCK_BANKS),
    .ACC_W(NC_ACC_W),
    .U_W(NC_U_W),
    .WORDS(NC_WORDS),
    .WRITABLE(NC_WRITABLE),
    .FIFO_LOG2(NC_FIFO_LOG2),
    .INPUT(NC_INPUT),
    .SRC_HASH(NC_SRC_HASH),
    .PROFILE(NC_PROFILE),
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
    .content_hash(hash_word),
    .busy(core_busy),
    .event_in(event_end),
    .event_out(event_out),
    .event_cycles(event_cycles),
    .err_malformed(err_malformed),
    .err_overflow(err_overflow),
    .mem_we(mem_we),
    .mem_re(mem_re),
    .mem_layer(mem_layer),
    .mem_kind(mem_kind),
    .mem_addr(mem_addr),
    .mem_data(mem_data),
    .mem_rdata(mem_rdata),
    .mem_rvalid(mem_rvalid)
);

endmodule

`resetall
