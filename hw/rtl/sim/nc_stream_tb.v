`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * File-driven testbench of nc_top for bulk co-simulation (Verilator with nc_stream_main.cpp, or Icarus):
 * streams AER words from a hex file (one word per line) into s_axis, one beat of up to
 * `NC_AXIS_WORDS words per cycle (an event starts a new beat; tkeep marks the words present), with
 * the output always ready, and writes every output word and every event's cycle count to files.
 *
 *   +in=<file>      input words (hex, one per line)
 *   +out=<file>     output words (hex, one per line)
 *   +cycles=<file>  per event: cycles from its first input word to its end-of-event word out
 *   +serial         send an event only after the previous one has left (latency, no queueing)
 *   +max_cycles=N   give up after N cycles (default 2^31 - 1): a stalled design ends the run
 *
 * Prints "nc_stream_tb: <events> events, <cycles> cycles" at the end.
 *
 * Under Verilator the clock is a port driven by nc_stream_main.cpp (no --timing coroutines: ~10x
 * faster); under Icarus the testbench makes its own. Reset is held for the first 4 cycles.
 */
// a testbench: initialised regs, blocking handshake bookkeeping and unused AXI4-Lite outputs are intended
/* verilator lint_off BLKSEQ */
/* verilator lint_off PROCASSINIT */
/* verilator lint_off INITIALDLY */
/* verilator lint_off UNUSEDSIGNAL */
`include "nc_ports.vh"
module nc_stream_tb
`ifdef VERILATOR
(
    input wire clk
);
`else
;
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
    .s_axis_tlast(1'b0),
    .m_axis_tdata(m_axis_tdata),
    .m_axis_tvalid(m_axis_tvalid),
    .m_axis_tready(1'b1),
    .m_axis_tlast(m_axis_tlast),
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

always @(posedge clk) begin
    if (rst_count != 3'd4) rst_count <= rst_count + 1;
    rst <= rst_count != 3'd4;
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
            $finish;
        end
    end
end

endmodule

`resetall
