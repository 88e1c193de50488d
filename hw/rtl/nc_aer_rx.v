`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * AER input stage: checks the words of neurocal/aer.py and turns an event into the token stream
 * every layer consumes (the same 32-bit words, see nc_lif_layer):
 *
 *   input  : tick 0 spikes, EOT(0), ..., tick T-1 spikes, EOT(T-1), EOE(T, event)
 *   output : the same spikes and EOT markers, then LAYERS empty ticks EOT(T) ... EOT(T+LAYERS-1)
 *            (the network runs T + LAYERS ticks), then EOE(T + LAYERS, event)
 *
 * A malformed word is dropped and pulses err_malformed: reserved kind 0b11, a spike whose tick is
 * not the current tick, whose address is >= N_IN, or not above the previous spike of its tick, an
 * EOT or EOE whose tick field disagrees with the ticks seen (the marker still closes the tick or
 * the event, so that one bad word does not shift the rest of the stream). err_overflow pulses when
 * T + LAYERS does not fit the 14-bit tick field.
 */
module nc_aer_rx #
(
    // number of input channels (valid spike addresses 0..N_IN-1)
    parameter N_IN = 400,
    // number of layers: empty ticks appended after the input's last tick
    parameter LAYERS = 3
)
(
    input  wire        clk,
    input  wire        rst,

    input  wire [31:0] s_axis_tdata,
    input  wire        s_axis_tvalid,
    output wire        s_axis_tready,
    input  wire        s_axis_tlast,   // not needed: the EOE word frames the event

    output wire [31:0] m_data,
    output wire        m_valid,
    input  wire        m_ready,

    output wire        event_start,    // the first word of an event is accepted
    output wire        event_end,      // an EOE word is accepted
    output wire        err_malformed,
    output wire        err_overflow
);

localparam [1:0] KIND_SPIKE = 2'b00, KIND_EOT = 2'b01, KIND_EOE = 2'b10;

reg [31:0] m_data_reg;
reg m_valid_reg;
reg [13:0] tick_reg;         // current input tick
reg [15:0] last_addr_reg;    // last spike address of the current tick
reg any_reg;                 // a spike of the current tick has been seen
reg in_event_reg;
reg [7:0] pad_reg;           // empty ticks still to append
reg eoe_pending_reg;         // the EOE token is still to send
reg [15:0] event_reg;        // event number of the EOE word

wire [1:0] kind = s_axis_tdata[31:30];
wire [13:0] tick = s_axis_tdata[29:16];
wire [15:0] addr = s_axis_tdata[15:0];

wire out_free = !m_valid_reg || m_ready;
wire padding = pad_reg != 0 || eoe_pending_reg;
assign s_axis_tready = out_free && !padding && !rst;
wire take = s_axis_tvalid && s_axis_tready;

wire spike_ok = tick == tick_reg && {16'd0, addr} < N_IN && (!any_reg || addr > last_addr_reg);
wire [31:0] total = {18'd0, tick_reg} + LAYERS;

assign m_data = m_data_reg;
assign m_valid = m_valid_reg;
assign event_start = take && !in_event_reg;
assign event_end = take && kind == KIND_EOE;
assign err_malformed = take && (kind == 2'b11 || (kind == KIND_SPIKE && !spike_ok)
                                || ((kind == KIND_EOT || kind == KIND_EOE) && tick != tick_reg));
assign err_overflow = take && kind == KIND_EOE && total > 32'd16383;

// s_axis_tlast carries no information the EOE word does not
wire unused = s_axis_tlast;

always @(posedge clk) begin
    if (m_ready) begin
        m_valid_reg <= 1'b0;
    end
    if (take) begin
        in_event_reg <= 1'b1;
        case (kind)
            KIND_SPIKE: if (spike_ok) begin
                m_data_reg <= s_axis_tdata;
                m_valid_reg <= 1'b1;
                last_addr_reg <= addr;
                any_reg <= 1'b1;
            end
            KIND_EOT: begin
                m_data_reg <= {KIND_EOT, tick_reg, 16'd0};
                m_valid_reg <= 1'b1;
                tick_reg <= tick_reg + 1;
                any_reg <= 1'b0;
            end
            KIND_EOE: begin
                pad_reg <= LAYERS;
                event_reg <= addr;
            end
            default: ;  // reserved kind: dropped
        endcase
    end else if (padding && out_free) begin
        m_valid_reg <= 1'b1;
        if (pad_reg != 0) begin
            m_data_reg <= {KIND_EOT, tick_reg, 16'd0};
            tick_reg <= tick_reg + 1;
            pad_reg <= pad_reg - 1;
            eoe_pending_reg <= pad_reg == 1;
        end else begin
            m_data_reg <= {KIND_EOE, tick_reg, event_reg};
            eoe_pending_reg <= 1'b0;
            tick_reg <= 0;
            any_reg <= 1'b0;
            in_event_reg <= 1'b0;
        end
    end
    if (rst) begin
        m_valid_reg <= 1'b0;
        tick_reg <= 0;
        any_reg <= 1'b0;
        in_event_reg <= 1'b0;
        pad_reg <= 0;
        eoe_pending_reg <= 1'b0;
    end
end

endmodule

`resetall
