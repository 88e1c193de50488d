`resetall
`timescale 1ns / 1ps
`default_nettype none

// offsets and fields: generated from neurocal/hw/regmap.py (python -m neurocal.hw.regmap)
`include "nc_regmap.vh"

/*
 * AXI4-Lite register file of the accelerator, register map version 3 (32-bit registers, 8-bit byte
 * address). The map has one source, the table in neurocal/hw/regmap.py; this module uses only the
 * offsets and fields of nc_regmap.vh generated from it. hw/README.md shows the table.
 *
 *   0x00 ID 0x4E430003, CTRL (CLEAR, CRC_START), STATUS (busy, sticky error flags, CRC state),
 *   HASH_LO/HI, event counters, cycle statistics, MALFORMED, CONFIG, REFUSED;
 *   0x30 MEM_SEL, MEM_ADDR, MEM_DATA, MEM_WRITE, MEM_READ, MEM_EXTRA: memory access;
 *   0x48 CRC; capabilities: SRC_HASH, PROFILE, CAPS, and per layer (LAYER_SEL) L_N_IN, L_N_OUT, L_LANES,
 *   L_BANKS, L_WIDTHS, L_BANK_WORDS: what the core was built for, readable by a host before any event.
 *
 * Memories (MEM_SEL kind 0 weights at bank << 20 | word, 1 neuron parameters, 2 layer config, 3 content
 * hash): a word of W bits moves through MEM_DATA as ceil(W/32) dwords, least significant first, both
 * ways. MEM_WRITE stores the staged dwords; MEM_READ fetches a word into the same staging register
 * (the layers answer 2 cycles later; a MEM_DATA read waits for it). Both then advance MEM_ADDR. A
 * MEM_DATA dword beyond the selected word is an error (STATUS.EXTRA, MEM_EXTRA) and the next MEM_WRITE
 * stores nothing. MEM_WRITE, MEM_READ and CRC_START while an event is in flight (busy) or a CRC walk runs
 * are refused: nothing changes, REFUSED counts them.
 *
 * CRC walk (CTRL.CRC_START; it uses the staging register, so MEM_DATA accesses meanwhile are refused
 * and read 0): the memories in the order layer 0..L-1 {weight banks 0..BANKS-1, each
 * word 0..BANK_WORDS-1; parameter words 0..LANES*GROUPS-1; config word}, then the hash word; each word
 * is ceil(W/8) bytes, least significant first, one byte per cycle through zlib's CRC-32 (reflected
 * 0xEDB88320, initial value and final xor 0xFFFFFFFF). Reads go through the layers' read ports, which
 * must be idle: an event arriving during the walk aborts it (STATUS.CRC_ABORTED).
 *
 * Writes to other addresses are acknowledged and ignored; reads of them return 0.
 */
module nc_axil_regs #
(
    // number of layers
    parameter LAYERS = 1,
    // layer sizes n_in, n_1, ..., n_L (element i at [32*i +: 32])
    parameter [32*(LAYERS+1)-1:0] SIZES = {32'd1, 32'd1},
    // accumulator lanes of each layer (element i at [32*i +: 32]; the same for the vectors below)
    parameter [32*LAYERS-1:0] LANES = {32'd1},
    // LIF updaters of each layer (neurons updated per cycle)
    parameter [32*LAYERS-1:0] LIF_LANES = {32'd1},
    // weight banks of each layer
    parameter [32*LAYERS-1:0] BANKS = {32'd1},
    // of them in block RAM
    parameter [32*LAYERS-1:0] BLOCK_BANKS = {32'd0},
    // synaptic accumulator bits of each layer
    parameter [32*LAYERS-1:0] ACC_W = {32'd10},
    // current register bits of each layer
    parameter [32*LAYERS-1:0] U_W = {32'd32},
    // AER words per s_axis beat
    parameter WORDS = 1,
    // 1: memories writable over AXI4-Lite
    parameter WRITABLE = 1,
    // log2 of the inter-stage FIFO depth
    parameter FIFO_LOG2 = 2,
    // input stage (CAPS.INPUT): 0 AER words over s_axis, 1 the detector's spike lines
    parameter INPUT = 0,
    // digest of the RTL sources (SRC_HASH)
    parameter [31:0] SRC_HASH = 32'd0,
    // hardware profile id (PROFILE; 0: none)
    parameter [31:0] PROFILE = 32'd0,
    // width of the widest memory word (staging register)
    parameter MEM_W = 64
)
(
    input  wire        clk,
    input  wire        rst,

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
    input  wire        s_axil_rready,

    input  wire [63:0] content_hash,
    input  wire        busy,           // an event is in flight: memory accesses are refused
    input  wire        event_in,       // pulse: an event entered
    input  wire        event_out,      // pulse: an event left; event_cycles holds its cycle count
    input  wire [31:0] event_cycles,
    input  wire [7:0]  err_malformed,  // malformed AER words dropped this cycle
    input  wire        err_overflow,   // pulse

    output wire        mem_we,         // pulse: write mem_data at (mem_layer, mem_kind, mem_addr)
    output wire        mem_re,         // pulse: read (mem_layer, mem_kind, mem_addr); mem_rvalid answers
    output wire [7:0]  mem_layer,
    output wire [1:0]  mem_kind,
    output wire [31:0] mem_addr,
    output wire [MEM_W-1:0] mem_data,
    input  wire [MEM_W-1:0] mem_rdata,
    input  wire        mem_rvalid
);

localparam STAGE_DW = (MEM_W + 31) / 32;  // dwords of the staging register

// check configuration
initial begin
    if (LAYERS < 1 || LAYERS > 255) begin
        $error("Error: LAYERS must be 1..255 (instance %m)");
        $finish;
    end
    if (MEM_W < 64) begin
        $error("Error: MEM_W must be at least 64, the hash word (instance %m)");
        $finish;
    end
    if (WORDS < 1 || WORDS > 255 || FIFO_LOG2 < 0 || FIFO_LOG2 > 15) begin
        $error("Error: WORDS must be 1..255 and FIFO_LOG2 0..15 (instance %m)");
        $finish;
    end
end

// ---------------------------------------------------------------- per-layer facts
wire [32*LAYERS-1:0] bank_words_v;  // words per weight bank: ceil(n_in / banks) * groups
wire [32*LAYERS-1:0] par_words_v;   // parameter words: groups * lanes
wire [32*LAYERS-1:0] w_bits_v;      // bits of a weight word: lanes * 9
genvar gi;
generate
    for (gi = 0; gi < LAYERS; gi = gi + 1) begin : layer_info
        localparam N_I = SIZES[32*gi +: 32];
        localparam N_O = SIZES[32*(gi+1) +: 32];
        localparam K = LANES[32*gi +: 32];
        localparam B = BANKS[32*gi +: 32];
        localparam GROUPS = (N_O + K - 1) / K;
        assign bank_words_v[32*gi +: 32] = ((N_I + B - 1) / B) * GROUPS;
        assign par_words_v[32*gi +: 32] = GROUPS * K;
        assign w_bits_v[32*gi +: 32] = K * 9;
    end
endgenerate

// element idx of a vector of LAYERS 32-bit fields; 0 for a layer the core does not have
function [31:0] pick;
    input [32*LAYERS-1:0] v;
    input [7:0] idx;
    integer j;
    begin
        pick = 32'd0;
        for (j = 0; j < LAYERS; j = j + 1) begin
            if ({24'd0, idx} == j) pick = v[32*j +: 32];
        end
    end
endfunction

// bits of a word of memory kind of layer (0: no such memory)
function [31:0] word_bits;
    input [7:0] layer;
    input [1:0] kind;
    begin
        case (kind)
            2'd0: word_bits = pick(w_bits_v, layer);
            2'd1: word_bits = {24'd0, layer} < LAYERS ? 32'd61 : 32'd0;
            2'd2: word_bits = {24'd0, layer} < LAYERS ? 32'd5 : 32'd0;
            default: word_bits = 32'd64;
        endcase
    end
endfunction

// zlib's CRC-32, one byte: reflected polynomial 0xEDB88320
function [31:0] crc32_byte;
    input [31:0] crc;
    input [7:0] data;
    integer j;
    reg [31:0] x;
    begin
        x = crc ^ {24'd0, data};
        for (j = 0; j < 8; j = j + 1) begin
            x = x[0] ? (x >> 1) ^ 32'hEDB88320 : x >> 1;
        end
        crc32_byte = x;
    end
endfunction

// ---------------------------------------------------------------- AXI4-Lite handshake
reg bvalid_reg, rvalid_reg;
reg [31:0] rdata_reg;

// memory access state
reg [7:0] sel_layer_reg;
reg [1:0] sel_kind_reg;
reg [31:0] sel_addr_reg;
wire [32*STAGE_DW-1:0] stage;  // the staging register: dword k in stage_dw[k] (below)
reg [31:0] stage_n_reg;   // dwords moved through MEM_DATA since the word was started
reg stage_bad_reg;        // an extra dword was written: the next MEM_WRITE stores nothing
reg mem_we_reg, host_re_reg, host_wait_reg;

// CRC walk state
reg crc_run_reg, crc_wait_reg, crc_re_reg, crc_last_reg;
reg [7:0] crc_layer_reg;
reg [1:0] crc_kind_reg;
reg [31:0] crc_addr_reg;
localparam BI_W = $clog2(4 * STAGE_DW);
reg [BI_W-1:0] crc_bi_reg;   // byte of the staging register fed next (the walk's word is staged there)
reg [15:0] crc_nb_reg;       // bytes of the word left
reg [31:0] crc_reg, crc_result_reg;
reg crc_done_reg, crc_aborted_reg;

reg [7:0] layer_sel_reg;
reg malformed_flag_reg, overflow_flag_reg, refused_flag_reg, extra_flag_reg;
reg [31:0] events_in_reg, events_out_reg, last_cycles_reg, max_cycles_reg, malformed_reg, refused_reg, extra_reg;

wire [`NC_REG_ADDR_W-1:0] waddr = {s_axil_awaddr[`NC_REG_ADDR_W-1:2], 2'b00};
wire [`NC_REG_ADDR_W-1:0] raddr = {s_axil_araddr[`NC_REG_ADDR_W-1:2], 2'b00};
// a MEM_DATA read waits until a fetched word has arrived
wire read_blocked = host_wait_reg && raddr == `NC_REG_MEM_DATA;
wire write = s_axil_awvalid && s_axil_wvalid && !bvalid_reg;
wire read = s_axil_arvalid && !rvalid_reg && !read_blocked;
wire wr_ctrl = write && waddr == `NC_REG_CTRL && s_axil_wstrb[0];
wire clear = wr_ctrl && s_axil_wdata[`NC_CTRL_CLEAR_LSB];
wire crc_start = wr_ctrl && s_axil_wdata[`NC_CTRL_CRC_START_LSB];
wire wr_mem_write = write && waddr == `NC_REG_MEM_WRITE;
wire wr_mem_read = write && waddr == `NC_REG_MEM_READ;
// the memories are the layers' (or the walk's) while an event is in flight or the walk runs; the walk
// also holds the staging register, so MEM_DATA waits too
wire locked = busy || crc_run_reg || host_wait_reg;
wire mem_data_access = (write && waddr == `NC_REG_MEM_DATA) || (read && raddr == `NC_REG_MEM_DATA);
wire refuse = ((wr_mem_write || wr_mem_read || crc_start) && locked) || (mem_data_access && crc_run_reg);

wire [31:0] sel_bits = word_bits(sel_layer_reg, sel_kind_reg);
wire [31:0] sel_dwords = (sel_bits + 32'd31) >> 5;

assign mem_we = mem_we_reg;
assign mem_re = host_re_reg || crc_re_reg;
assign mem_layer = crc_run_reg ? crc_layer_reg : sel_layer_reg;
assign mem_kind = crc_run_reg ? crc_kind_reg : sel_kind_reg;
assign mem_addr = crc_run_reg ? crc_addr_reg : sel_addr_reg;
assign mem_data = stage[MEM_W-1:0];

assign s_axil_awready = write;
assign s_axil_wready = write;
assign s_axil_bresp = 2'b00;
assign s_axil_bvalid = bvalid_reg;
assign s_axil_arready = read;
assign s_axil_rdata = rdata_reg;
assign s_axil_rresp = 2'b00;
assign s_axil_rvalid = rvalid_reg;

// ---------------------------------------------------------------- read-only values
localparam [31:0] LAYERS32 = LAYERS;
localparam [31:0] N_IN32 = SIZES[31:0];
localparam [31:0] WORDS32 = WORDS;
localparam [31:0] FIFO32 = FIFO_LOG2;
localparam [31:0] MEM_W32 = MEM_W;
localparam [31:0] CONFIG_VALUE = (LAYERS32 << `NC_CONFIG_LAYERS_LSB) | (N_IN32 << `NC_CONFIG_N_IN_LSB);
localparam [31:0] CAPS_VALUE = (WORDS32 << `NC_CAPS_WORDS_LSB) | ((WRITABLE != 0 ? 32'd1 : 32'd0) << `NC_CAPS_WRITABLE_LSB)
                               | ((INPUT != 0 ? 32'd1 : 32'd0) << `NC_CAPS_INPUT_LSB)
                               | (FIFO32 << `NC_CAPS_FIFO_LOG2_LSB) | (MEM_W32 << `NC_CAPS_MEM_W_LSB);

reg [31:0] status;
always @* begin
    status = 32'd0;
    status[`NC_STATUS_BUSY_LSB] = busy;
    status[`NC_STATUS_MALFORMED_LSB] = malformed_flag_reg;
    status[`NC_STATUS_OVERFLOW_LSB] = overflow_flag_reg;
    status[`NC_STATUS_REFUSED_LSB] = refused_flag_reg;
    status[`NC_STATUS_EXTRA_LSB] = extra_flag_reg;
    status[`NC_STATUS_CRC_BUSY_LSB] = crc_run_reg;
    status[`NC_STATUS_CRC_DONE_LSB] = crc_done_reg;
    status[`NC_STATUS_CRC_ABORTED_LSB] = crc_aborted_reg;
end

wire [31:0] stage_dword = stage[stage_n_reg[$clog2(STAGE_DW+1)-1:0]*32 +: 32];
wire [31:0] l_lanes = pick(LANES, layer_sel_reg) | (pick(LIF_LANES, layer_sel_reg) << `NC_L_LANES_LIF_LANES_LSB);
wire [31:0] l_banks = pick(BANKS, layer_sel_reg) | (pick(BLOCK_BANKS, layer_sel_reg) << `NC_L_BANKS_BLOCK_BANKS_LSB);
wire [31:0] l_widths = (pick(ACC_W, layer_sel_reg) << `NC_L_WIDTHS_ACC_W_LSB)
                       | (pick(U_W, layer_sel_reg) << `NC_L_WIDTHS_U_W_LSB);

// ---------------------------------------------------------------- CRC walk: the next word's position
wire [31:0] crc_bank = {20'd0, crc_addr_reg[31:20]};
wire [31:0] crc_word = {12'd0, crc_addr_reg[19:0]};
reg [7:0] next_layer;
reg [1:0] next_kind;
reg [31:0] next_addr;
reg next_last;  // the word just read was the hash, the last one
always @* begin
    next_layer = crc_layer_reg;
    next_kind = crc_kind_reg;
    next_addr = crc_addr_reg + 1;
    next_last = 1'b0;
    case (crc_kind_reg)
        2'd0: begin
            if (crc_word + 1 >= pick(bank_words_v, crc_layer_reg)) begin
                if (crc_bank + 1 >= pick(BANKS, crc_layer_reg)) begin
                    next_kind = 2'd1;
                    next_addr = 32'd0;
                end else begin
                    next_addr = (crc_bank + 1) << 20;
                end
            end
        end
        2'd1: begin
            if (crc_addr_reg + 1 >= pick(par_words_v, crc_layer_reg)) begin
                next_kind = 2'd2;
                next_addr = 32'd0;
            end
        end
        2'd2: begin
            next_addr = 32'd0;
            if ({24'd0, crc_layer_reg} + 1 >= LAYERS) begin
                next_layer = 8'd0;
                next_kind = 2'd3;
            end else begin
                next_layer = crc_layer_reg + 1;
                next_kind = 2'd0;
            end
        end
        default: next_last = 1'b1;
    endcase
end
wire [31:0] crc_next = crc32_byte(crc_reg, stage[crc_bi_reg*8 +: 8]);

localparam NB_W = 16;
wire [31:0] rd_bytes32 = (word_bits(crc_layer_reg, crc_kind_reg) + 32'd7) >> 3;
wire [NB_W-1:0] rd_bytes = rd_bytes32[NB_W-1:0];

// the staging register, one process per dword: a fetched word (host MEM_READ or the walk) loads it
// whole, a MEM_DATA write its next dword (an explicit enable per dword, not a variable part-select)
wire crc_take = crc_run_reg && !busy && crc_nb_reg == 0 && crc_wait_reg && mem_rvalid;
wire stage_load = (host_wait_reg && mem_rvalid) || crc_take;
wire stage_write = write && waddr == `NC_REG_MEM_DATA && !crc_run_reg && stage_n_reg < sel_dwords;
wire [32*STAGE_DW-1:0] fetched;
assign fetched[MEM_W-1:0] = mem_rdata;
genvar gd;
generate
    if (32 * STAGE_DW > MEM_W) begin : fetched_pad
        assign fetched[32*STAGE_DW-1:MEM_W] = {(32*STAGE_DW-MEM_W){1'b0}};
    end
    for (gd = 0; gd < STAGE_DW; gd = gd + 1) begin : stage_dw
        reg [31:0] dw_reg;
        assign stage[32*gd +: 32] = dw_reg;
        always @(posedge clk) begin
            if (stage_load) dw_reg <= fetched[32*gd +: 32];
            else if (stage_write && stage_n_reg == gd) dw_reg <= s_axil_wdata;
            if (rst) dw_reg <= 32'd0;
        end
    end
endgenerate

wire unused = &{1'b0, s_axil_awprot, s_axil_arprot, s_axil_wstrb[3:1], s_axil_awaddr[1:0], s_axil_araddr[1:0],
                rd_bytes32[31:NB_W], stage_n_reg[31:$clog2(STAGE_DW+1)]};

always @(posedge clk) begin
    if (s_axil_bready) bvalid_reg <= 1'b0;
    if (write) bvalid_reg <= 1'b1;
    mem_we_reg <= 1'b0;
    host_re_reg <= 1'b0;
    crc_re_reg <= 1'b0;
    if (mem_we_reg) sel_addr_reg <= sel_addr_reg + 1;
    if (host_wait_reg && mem_rvalid) begin
        host_wait_reg <= 1'b0;
        stage_n_reg <= 0;
        sel_addr_reg <= sel_addr_reg + 1;
    end
    if (refuse) begin
        refused_flag_reg <= 1'b1;
        refused_reg <= refused_reg + 1;
    end
    if (write) begin
        case (waddr)
            `NC_REG_MEM_SEL: begin
                sel_layer_reg <= s_axil_wdata[`NC_MEM_SEL_LAYER_LSB +: `NC_MEM_SEL_LAYER_W];
                sel_kind_reg <= s_axil_wdata[`NC_MEM_SEL_KIND_LSB +: `NC_MEM_SEL_KIND_W];
            end
            `NC_REG_MEM_ADDR: begin
                sel_addr_reg <= s_axil_wdata;
                stage_n_reg <= 0;
                stage_bad_reg <= 1'b0;
            end
            `NC_REG_MEM_DATA: begin
                if (crc_run_reg) begin
                    // refused: the walk holds the staging register
                end else if (stage_n_reg < sel_dwords) begin
                    stage_n_reg <= stage_n_reg + 1;
                end else begin
                    stage_bad_reg <= 1'b1;
                    extra_flag_reg <= 1'b1;
                    extra_reg <= extra_reg + 1;
                end
            end
            `NC_REG_MEM_WRITE: begin
                if (!locked && !stage_bad_reg) mem_we_reg <= 1'b1;
                stage_n_reg <= 0;
                stage_bad_reg <= 1'b0;
            end
            `NC_REG_MEM_READ: begin
                if (!locked) begin
                    host_re_reg <= 1'b1;
                    host_wait_reg <= 1'b1;
                end
            end
            `NC_REG_LAYER_SEL: layer_sel_reg <= s_axil_wdata[`NC_LAYER_SEL_LAYER_LSB +: `NC_LAYER_SEL_LAYER_W];
            default: ;
        endcase
    end
    if (s_axil_rready) rvalid_reg <= 1'b0;
    if (read) begin
        rvalid_reg <= 1'b1;
        case (raddr)
            `NC_REG_ID: rdata_reg <= `NC_REG_ID_VALUE;
            `NC_REG_STATUS: rdata_reg <= status;
            `NC_REG_HASH_LO: rdata_reg <= content_hash[31:0];
            `NC_REG_HASH_HI: rdata_reg <= content_hash[63:32];
            `NC_REG_EVENTS_IN: rdata_reg <= events_in_reg;
            `NC_REG_EVENTS_OUT: rdata_reg <= events_out_reg;
            `NC_REG_LAST_CYCLES: rdata_reg <= last_cycles_reg;
            `NC_REG_MAX_CYCLES: rdata_reg <= max_cycles_reg;
            `NC_REG_MALFORMED: rdata_reg <= malformed_reg;
            `NC_REG_CONFIG: rdata_reg <= CONFIG_VALUE;
            `NC_REG_REFUSED: rdata_reg <= refused_reg;
            `NC_REG_MEM_SEL: rdata_reg <= ({24'd0, sel_layer_reg} << `NC_MEM_SEL_LAYER_LSB)
                                          | ({30'd0, sel_kind_reg} << `NC_MEM_SEL_KIND_LSB);
            `NC_REG_MEM_ADDR: rdata_reg <= sel_addr_reg;
            `NC_REG_MEM_DATA: begin
                if (crc_run_reg) begin
                    rdata_reg <= 32'd0;  // refused: the walk holds the staging register
                end else if (stage_n_reg < sel_dwords) begin
                    rdata_reg <= stage_dword;
                    stage_n_reg <= stage_n_reg + 1;
                end else begin
                    rdata_reg <= 32'd0;
                    extra_flag_reg <= 1'b1;
                    extra_reg <= extra_reg + 1;
                end
            end
            `NC_REG_MEM_EXTRA: rdata_reg <= extra_reg;
            `NC_REG_CRC: rdata_reg <= crc_result_reg;
            `NC_REG_SRC_HASH: rdata_reg <= SRC_HASH;
            `NC_REG_PROFILE: rdata_reg <= PROFILE;
            `NC_REG_CAPS: rdata_reg <= CAPS_VALUE;
            `NC_REG_LAYER_SEL: rdata_reg <= {24'd0, layer_sel_reg} << `NC_LAYER_SEL_LAYER_LSB;
            `NC_REG_L_N_IN: rdata_reg <= pick(SIZES[32*LAYERS-1:0], layer_sel_reg);
            `NC_REG_L_N_OUT: rdata_reg <= pick(SIZES[32*(LAYERS+1)-1:32], layer_sel_reg);
            `NC_REG_L_LANES: rdata_reg <= l_lanes;
            `NC_REG_L_BANKS: rdata_reg <= l_banks;
            `NC_REG_L_WIDTHS: rdata_reg <= l_widths;
            `NC_REG_L_BANK_WORDS: rdata_reg <= pick(bank_words_v, layer_sel_reg);
            default: rdata_reg <= 32'd0;
        endcase
    end

    // CRC walk: read a word, feed its bytes, move on; an event in flight aborts it
    if (crc_run_reg) begin
        if (busy) begin
            crc_run_reg <= 1'b0;
            crc_aborted_reg <= 1'b1;
        end else if (crc_nb_reg != 0) begin
            crc_reg <= crc_next;
            crc_bi_reg <= crc_bi_reg + 1;
            crc_nb_reg <= crc_nb_reg - 1;
            if (crc_nb_reg == 1 && crc_last_reg) begin
                crc_run_reg <= 1'b0;
                crc_done_reg <= 1'b1;
                crc_result_reg <= ~crc_next;
            end
        end else if (crc_wait_reg) begin
            if (mem_rvalid) begin
                crc_wait_reg <= 1'b0;
                crc_bi_reg <= 0;
                crc_nb_reg <= rd_bytes;
                crc_last_reg <= next_last;
                crc_layer_reg <= next_layer;
                crc_kind_reg <= next_kind;
                crc_addr_reg <= next_addr;
            end
        end else begin
            crc_re_reg <= 1'b1;
            crc_wait_reg <= 1'b1;
        end
    end
    if (crc_start && !locked) begin
        crc_run_reg <= 1'b1;
        crc_wait_reg <= 1'b0;
        crc_nb_reg <= 0;
        crc_last_reg <= 1'b0;
        crc_layer_reg <= 8'd0;
        crc_kind_reg <= 2'd0;
        crc_addr_reg <= 32'd0;
        crc_reg <= 32'hFFFFFFFF;
        crc_done_reg <= 1'b0;
        crc_aborted_reg <= 1'b0;
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
        refused_flag_reg <= 1'b0;
        extra_flag_reg <= 1'b0;
        events_in_reg <= 0;
        events_out_reg <= 0;
        last_cycles_reg <= 0;
        max_cycles_reg <= 0;
        malformed_reg <= 0;
        refused_reg <= 0;
        extra_reg <= 0;
    end
    if (rst) begin
        bvalid_reg <= 1'b0;
        rvalid_reg <= 1'b0;
        mem_we_reg <= 1'b0;
        host_re_reg <= 1'b0;
        host_wait_reg <= 1'b0;
        sel_layer_reg <= 0;
        sel_kind_reg <= 0;
        sel_addr_reg <= 0;
        stage_n_reg <= 0;
        stage_bad_reg <= 1'b0;
        layer_sel_reg <= 0;
        crc_run_reg <= 1'b0;
        crc_wait_reg <= 1'b0;
        crc_re_reg <= 1'b0;
        crc_last_reg <= 1'b0;
        crc_layer_reg <= 0;
        crc_kind_reg <= 0;
        crc_addr_reg <= 0;
        crc_bi_reg <= 0;
        crc_nb_reg <= 0;
        crc_reg <= 32'hFFFFFFFF;
        crc_result_reg <= 0;
        crc_done_reg <= 1'b0;
        crc_aborted_reg <= 1'b0;
    end
end

endmodule

`resetall
