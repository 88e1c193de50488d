`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * AXI4-Lite register file of the accelerator (32-bit registers, byte address):
 *
 *   0x00 ID            0x4E430002 ("NC", register map version 2: banked weights)
 *   0x04 CTRL          write 1 to bit 0: clear the error flags, counters and cycle statistics
 *   0x08 STATUS        [0] busy, [1] malformed AER word seen, [2] overflow (ticks or event queue)
 *   0x0C HASH_LO       content_hash of the loaded network, bits 31:0 of its first 64 bits
 *   0x10 HASH_HI       bits 63:32 (the hash's first 16 hex digits read as one big-endian number)
 *   0x14 EVENTS_IN     events accepted (end-of-event words in)
 *   0x18 EVENTS_OUT    events answered (end-of-event words out)
 *   0x1C LAST_CYCLES   cycles of the last answered event: its first input word to its last output word
 *   0x20 MAX_CYCLES    largest LAST_CYCLES since the last clear
 *   0x24 MALFORMED     number of malformed AER words dropped
 *   0x28 CONFIG        [7:0] layers, [23:8] input channels
 *   0x30 MEM_SEL       memory to write: [23:16] layer, [1:0] kind (0 weights, 1 neuron parameters,
 *                      2 layer config, 3 content hash); the word layouts are those of the memory files
 *   0x34 MEM_ADDR      word index (weights: bank << 20 | word of the bank); writing it also restarts
 *                      MEM_DATA at the word's bits 31:0
 *   0x38 MEM_DATA      (write) the next 32 bits of the word, least significant first
 *   0x3C MEM_WRITE     (write) store the word at (MEM_SEL, MEM_ADDR), then MEM_ADDR += 1
 *
 * Memory writes are meant for an idle accelerator (STATUS busy = 0): a network is loaded between
 * events. A write outside the selected memory sets the overflow flag and changes nothing.
 * Writes to other addresses are acknowledged and ignored; reads of them return 0.
 */
module nc_axil_regs #
(
    // number of layers (CONFIG)
    parameter LAYERS = 1,
    // number of input channels (CONFIG)
    parameter N_IN = 1,
    // width of the widest memory word (MEM_DATA staging register)
    parameter MEM_W = 64
)
(
    input  wire        clk,
    input  wire        rst,

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
    input  wire        s_axil_rready,

    input  wire [63:0] content_hash,
    input  wire        busy,
    input  wire        event_in,       // pulse: an event entered
    input  wire        event_out,      // pulse: an event left; event_cycles holds its cycle count
    input  wire [31:0] event_cycles,
    input  wire [7:0]  err_malformed,  // malformed AER words dropped this cycle
    input  wire        err_overflow,   // pulse

    output wire        mem_we,         // pulse: write mem_data at (mem_layer, mem_kind, mem_addr)
    output wire [7:0]  mem_layer,
    output wire [1:0]  mem_kind,
    output wire [31:0] mem_addr,
    output wire [MEM_W-1:0] mem_data
);

localparam STAGE_DW = (MEM_W + 31) / 32;  // dwords of the staging register

reg bvalid_reg, rvalid_reg;
reg [31:0] rdata_reg;
reg malformed_flag_reg, overflow_flag_reg;
reg [31:0] events_in_reg, events_out_reg, last_cycles_reg, max_cycles_reg, malformed_reg;

wire write = s_axil_awvalid && s_axil_wvalid && !bvalid_reg;
wire read = s_axil_arvalid && !rvalid_reg;
wire clear = write && s_axil_awaddr[7:2] == 6'h01 && s_axil_wstrb[0] && s_axil_wdata[0];

reg [7:0] mem_layer_reg;
reg [1:0] mem_kind_reg;
reg [31:0] mem_addr_reg;
reg [32*STAGE_DW-1:0] stage_reg;
reg [31:0] stage_n_reg;  // dwords staged so far
reg mem_we_reg;
assign mem_we = mem_we_reg;
assign mem_layer = mem_layer_reg;
assign mem_kind = mem_kind_reg;
assign mem_addr = mem_addr_reg;
assign mem_data = stage_reg[MEM_W-1:0];

assign s_axil_awready = write;
assign s_axil_wready = write;
assign s_axil_bresp = 2'b00;
assign s_axil_bvalid = bvalid_reg;
assign s_axil_arready = read;
assign s_axil_rdata = rdata_reg;
assign s_axil_rresp = 2'b00;
assign s_axil_rvalid = rvalid_reg;

localparam [31:0] LAYERS32 = LAYERS;
localparam [7:0] LAYERS8 = LAYERS32[7:0];
localparam [31:0] N_IN32 = N_IN;
localparam [15:0] N_IN16 = N_IN32[15:0];
wire unused = &{1'b0, s_axil_awprot, s_axil_arprot, s_axil_wstrb[3:1], s_axil_awaddr[1:0], s_axil_araddr[1:0]};
wire [32*STAGE_DW-1:0] unused_stage = stage_reg;

always @(posedge clk) begin
    if (s_axil_bready) bvalid_reg <= 1'b0;
    if (write) bvalid_reg <= 1'b1;
    mem_we_reg <= 1'b0;
    if (mem_we_reg) mem_addr_reg <= mem_addr_reg + 1;
    if (write) begin
        case (s_axil_awaddr[7:2])
            6'h0C: begin
                mem_layer_reg <= s_axil_wdata[23:16];
                mem_kind_reg <= s_axil_wdata[1:0];
            end
            6'h0D: begin
                mem_addr_reg <= s_axil_wdata;
                stage_n_reg <= 0;
            end
            6'h0E: begin
                if (stage_n_reg < STAGE_DW) stage_reg[stage_n_reg*32 +: 32] <= s_axil_wdata;
                stage_n_reg <= stage_n_reg + 1;
            end
            6'h0F: begin
                mem_we_reg <= 1'b1;
                stage_n_reg <= 0;
            end
            default: ;
        endcase
    end
    if (s_axil_rready) rvalid_reg <= 1'b0;
    if (read) begin
        rvalid_reg <= 1'b1;
        case (s_axil_araddr[7:2])
            6'h00: rdata_reg <= 32'h4E430002;
            6'h02: rdata_reg <= {29'd0, overflow_flag_reg, malformed_flag_reg, busy};
            6'h03: rdata_reg <= content_hash[31:0];
            6'h04: rdata_reg <= content_hash[63:32];
            6'h05: rdata_reg <= events_in_reg;
            6'h06: rdata_reg <= events_out_reg;
            6'h07: rdata_reg <= last_cycles_reg;
            6'h08: rdata_reg <= max_cycles_reg;
            6'h09: rdata_reg <= malformed_reg;
            6'h0A: rdata_reg <= {8'd0, N_IN16, LAYERS8};
            6'h0C: rdata_reg <= {8'd0, mem_layer_reg, 14'd0, mem_kind_reg};
            6'h0D: rdata_reg <= mem_addr_reg;
            default: rdata_reg <= 32'd0;
        endcase
    end

    if (event_in) events_in_reg <= events_in_reg + 1;
    if (event_out) begin
        events_out_reg <= events_out_reg + 1;
        last_cycles_reg <= event_cycles;
        if (event_cycles > max_cycles_reg) max_cycles_reg <= event_cycles;
    end
    if (err_malformed != 0) begin
        malformed_flag_reg <= 1'b1;
        malformed_reg <= malformed_reg + {24'd0, err_malformed};
    end
    if (err_overflow) overflow_flag_reg <= 1'b1;

    if (rst || clear) begin
        malformed_flag_reg <= 1'b0;
        overflow_flag_reg <= 1'b0;
        events_in_reg <= 0;
        events_out_reg <= 0;
        last_cycles_reg <= 0;
        max_cycles_reg <= 0;
        malformed_reg <= 0;
    end
    if (rst) begin
        bvalid_reg <= 1'b0;
        rvalid_reg <= 1'b0;
        mem_we_reg <= 1'b0;
        mem_layer_reg <= 0;
        mem_kind_reg <= 0;
        mem_addr_reg <= 0;
        stage_reg <= 0;
        stage_n_reg <= 0;
    end
end

endmodule

`resetall
