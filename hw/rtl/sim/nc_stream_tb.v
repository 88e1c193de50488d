`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Bulk co-simulation testbench of nc_top: streams AER words into s_axis, one beat of up to
 * `NC_AXIS_WORDS words per cycle (an event starts a new beat; tkeep marks the words present; tlast marks
 * the beat holding the end-of-event word), with the output always ready, and records every output word,
 * every event's cycle count and, with +layers (a build with NC_DEBUG), every hidden layer's tokens.
 *
 * Icarus: file-driven, plusargs
 *   +in=<file>      input words (hex, one per line)
 *   +out=<file>     output words (hex, one per line)
 *   +cycles=<file>  per event: cycles from its first input word to its end-of-event word out
 *   +serial         send an event only after the previous one has left (latency, no queueing)
 *   +max_cycles=N   give up after N cycles (default 2^31 - 1): a stalled design ends the run
 *   +layers=<file>  per cycle with a dbg_valid bit set: "<dbg_valid hex> <dbg_data hex>" (both simulators:
 *                   written by this module's Verilog, also under Verilator)
 * and prints "nc_stream_tb: <events> events, <cycles> cycles" at the end.
 *
 * Verilator: the same plusargs, handled by nc_stream_main.cpp, which reads the input file once,
 * builds the beats in C++ and writes the files at the end ($fscanf per word cost ~1/3 of the run).
 * Here the testbench is only ports: clk, the next beat (beat_tdata/beat_tkeep, loaded when
 * beat_load) and the next tvalid (beat_valid) are registered at the clock edge, exactly as the
 * Icarus testbench's non-blocking assignments, so the design samples them race-free and sees the
 * same stream cycle for cycle; reset, the design's outputs and event_cycles go back to C++.
 * Reset is held for the first 5 clock edges in both.
 *
 * A build with the detector input (NC_INPUT = 1), Verilator only: the C++ side decodes the same input file into
 * each event's rasters and drives nc_top's `lines` and `trigger` directly (line_data, line_trigger: set before
 * the edge, sampled at it): a trigger when the line receiver is free (line_busy low; serial: also when every
 * event has left), then the window's beats of NC_LINE_K ticks, one per clock, as the receiver captures them.
 */
// a testbench: initialised regs, blocking handshake bookkeeping and unused AXI4-Lite outputs are intended
/* verilator lint_off BLKSEQ */
/* verilator lint_off PROCASSINIT */
/* verilator lint_off INITIALDLY */
/* verilator lint_off UNUSEDSIGNAL */
`include "nc_ports.vh"
`ifdef VERILATOR
module nc_stream_tb
(
    input  wire clk,
    input  wire [32*`NC_AXIS_WORDS-1:0] beat_tdata,
    input  wire [4*`NC_AXIS_WORDS-1:0] beat_tkeep,
    input  wire beat_load,          // load beat_tdata/beat_tkeep into s_axis at this edge
    input  wire beat_valid,         // s_axis_tvalid after this edge
    output wire in_reset,
    output wire tready,             // s_axis_tready before the edge
    output wire [31:0] out_tdata,   // m_axis before the edge
    output wire out_tvalid,
    output wire out_tlast,
    output wire [31:0] event_cycles, // the design's cycle count of the event whose last word is out
    input  wire [`NC_LINES_W-1:0] line_data,  // the detector lines this cycle (a lines build)
    input  wire line_trigger,       // opens an event window this cycle (a lines build)
    output wire line_busy           // the line receiver holds a window or a token (a lines build)
);
`else
module nc_stream_tb;
reg clk = 1'b0;
always #2 clk = ~clk;  // 250 MHz
`endif

reg rst = 1'b1;
reg [2:0] rst_count = 0;

localparam WORDS = `NC_AXIS_WORDS;
reg [32*WORDS-1:0] s_axis_tdata = 0;
reg [4*WORDS-1:0] s_axis_tkeep = 0;
reg s_axis_tvalid = 1'b0;
wire s_axis_tready;
wire [31:0] m_axis_tdata;
wire m_axis_tvalid;
wire m_axis_tlast;
wire [`NC_DEBUG_N-1:0] dbg_valid;
wire [`NC_DEBUG_W-1:0] dbg_data;

// tlast: the beat holds an end-of-event word (each event starts a new beat, so it is the event's last)
function beat_has_eoe;
    input [32*WORDS-1:0] data;
    input [4*WORDS-1:0] keep;
    integer q;
    begin
        beat_has_eoe = 1'b0;
        for (q = 0; q < WORDS; q = q + 1) begin
            if (keep[4*q +: 4] == 4'hF && data[32*q+30 +: 2] == 2'b10) beat_has_eoe = 1'b1;
        end
    end
endfunction
wire s_axis_tlast = beat_has_eoe(s_axis_tdata, s_axis_tkeep);

wire s_axil_awready, s_axil_wready, s_axil_bvalid, s_axil_arready, s_axil_rvalid;
wire [1:0] s_axil_bresp, s_axil_rresp;
wire [31:0] s_axil_rdata;

nc_top dut (
    .clk(clk),
    .rst(rst),
    .s_axis_tdata(s_axis_tdata),
    .s_axis_tkeep(s_axis_tkeep),
    .s_axis_tvalid(s_axis_tvalid),
    .s_axis_tready(s_axis_tready),
    .s_axis_tlast(s_axis_tlast),
`ifdef VERILATOR
    .lines(line_data),
    .trigger(line_trigger),
`else
    .lines({`NC_LINES_W{1'b0}}),
    .trigger(1'b0),
`endif
    .m_axis_tdata(m_axis_tdata),
    .m_axis_tvalid(m_axis_tvalid),
    .m_axis_tready(1'b1),
    .m_axis_tlast(m_axis_tlast),
    .dbg_valid(dbg_valid),
    .dbg_data(dbg_data),
    .s_axil_awaddr(8'd0),
    .s_axil_awprot(3'd0),
    .s_axil_awvalid(1'b0),
    .s_axil_awready(s_axil_awready),
    .s_axil_wdata(32'd0),
    .s_axil_wstrb(4'd0),
    .s_axil_wvalid(1'b0),
    .s_axil_wready(s_axil_wready),
    .s_axil_bresp(s_axil_bresp),
    .s_axil_bvalid(s_axil_bvalid),
    .s_axil_bready(1'b1),
    .s_axil_araddr(8'd0),
    .s_axil_arprot(3'd0),
    .s_axil_arvalid(1'b0),
    .s_axil_arready(s_axil_arready),
    .s_axil_rdata(s_axil_rdata),
    .s_axil_rresp(s_axil_rresp),
    .s_axil_rvalid(s_axil_rvalid),
    .s_axil_rready(1'b1)
);

always @(posedge clk) begin
    if (rst_count != 3'd4) rst_count <= rst_count + 1;
    rst <= rst_count != 3'd4;
end

// hidden layers' tokens (an optional file, so the same build also runs without it)
integer flayers = 0;
reg [8*1024-1:0] layers_name;
initial begin
    if ($value$plusargs("layers=%s", layers_name)) begin
        flayers = $fopen(layers_name, "w");
        if (flayers == 0) begin
            $display("nc_stream_tb: error: cannot open %0s", layers_name);
            $finish;
        end
    end
end
always @(posedge clk) begin
    if (!rst && flayers != 0 && dbg_valid != 0) $fwrite(flayers, "%h %h\n", dbg_valid, dbg_data);
end

`ifdef VERILATOR
assign in_reset = rst;
assign tready = s_axis_tready;
assign out_tdata = m_axis_tdata;
assign out_tvalid = m_axis_tvalid;
assign out_tlast = m_axis_tlast;
assign event_cycles = dut.event_cycles;
assign line_busy = dut.rx_busy;
always @(posedge clk) begin
    if (!rst) begin
        if (beat_load) begin
            s_axis_tdata <= beat_tdata;
            s_axis_tkeep <= beat_tkeep;
        end
        s_axis_tvalid <= beat_valid;
    end
end
`else
integer fin, fout, fcyc, code, n_events_in, n_events_out, n;
integer cycle, max_cycles;
reg serial, have_word, eof;
reg [31:0] word;
reg [8*1024-1:0] in_name, out_name, cyc_name;

// the next input word, read ahead from the file
task next_word;
    begin
        code = $fscanf(fin, "%h\n", word);
        have_word = code == 1;
        eof = code != 1;
    end
endtask

initial begin
    if (!$value$plusargs("in=%s", in_name) || !$value$plusargs("out=%s", out_name)
            || !$value$plusargs("cycles=%s", cyc_name)) begin
        $display("nc_stream_tb: error: give +in=<file> +out=<file> +cycles=<file>");
        $finish;
    end
    if (!$value$plusargs("max_cycles=%d", max_cycles)) max_cycles = 32'h7fffffff;
    serial = $test$plusargs("serial");
    fin = $fopen(in_name, "r");
    fout = $fopen(out_name, "w");
    fcyc = $fopen(cyc_name, "w");
    if (fin == 0 || fout == 0 || fcyc == 0) begin
        $display("nc_stream_tb: error: cannot open %0s, %0s or %0s", in_name, out_name, cyc_name);
        $finish;
    end
    cycle = 0;
    n_events_in = 0;
    n_events_out = 0;
    next_word;
end

// input side: one beat per cycle while the design takes it (serial: stop after each end of event).
// The ports change only through non-blocking assignments, so the design samples them race-free.
reg pending, beat_eoe_reg, beat_eoe;
reg [32*WORDS-1:0] beat;
reg [4*WORDS-1:0] beat_keep;
always @(posedge clk) begin
    if (!rst) begin
        cycle <= cycle + 1;
        pending = s_axis_tvalid;
        if (s_axis_tvalid && s_axis_tready) begin
            if (beat_eoe_reg) n_events_in = n_events_in + 1;
            pending = 1'b0;
        end
        if (!pending && have_word && (!serial || n_events_out == n_events_in)) begin
            beat = 0;
            beat_keep = 0;
            beat_eoe = 1'b0;
            for (n = 0; n < WORDS; n = n + 1) begin
                if (have_word && !beat_eoe) begin
                    beat[32*n +: 32] = word;
                    beat_keep[4*n +: 4] = 4'hF;
                    beat_eoe = word[31:30] == 2'b10;
                    next_word;
                end
            end
            s_axis_tdata <= beat;
            s_axis_tkeep <= beat_keep;
            beat_eoe_reg <= beat_eoe;
            pending = 1'b1;
        end
        s_axis_tvalid <= pending;
        if (m_axis_tvalid) begin
            $fwrite(fout, "%08x\n", m_axis_tdata);
            if (m_axis_tlast) begin
                $fwrite(fcyc, "%0d\n", dut.event_cycles);
                n_events_out = n_events_out + 1;
            end
        end
        if ((eof && !have_word && !pending && n_events_out == n_events_in) || cycle >= max_cycles) begin
            $display("nc_stream_tb: %0d events, %0d cycles%0s", n_events_out, cycle,
                     cycle >= max_cycles ? " (max_cycles reached: stalled?)" : "");
            $fclose(fout);
            $fclose(fcyc);
            if (flayers != 0) $fclose(flayers);
            $finish;
        end
    end
end

`endif

endmodule

`resetall
