`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * AER output stage: the output layer's tokens (nc_lif_layer with EMIT_V = 1: a spike raster per
 * tick, then the end-of-event token carrying the final voltages) -> the output stream of
 * neurocal/aer.py, one 32-bit word per beat:
 *
 *   spikes ascending (tick, neuron): [31:30] 00, [29:16] tick, [15:0] neuron
 *   one voltage word per neuron:     [31:30] 11, [29:24] neuron mod 64, [23:0] final v
 *   end of event:                    [31:30] 10, [29:16] ticks (rasters seen), [15:0] event number;
 *                                    m_axis_tlast marks it
 *
 * A raster costs one cycle plus one per spike beyond the first; the next raster is taken in the
 * cycle its predecessor's last spike leaves.
 */
module nc_aer_tx #
(
    // number of output neurons
    parameter N_OUT = 1
)
(
    input  wire        clk,
    input  wire        rst,

    input  wire [24*N_OUT+16:0] s_data,   // {eoe, event, raster (low N_OUT bits) or voltages}
    input  wire        s_valid,
    output wire        s_ready,

    output wire [31:0] m_axis_tdata,
    output wire        m_axis_tvalid,
    input  wire        m_axis_tready,
    output wire        m_axis_tlast,

    output wire        busy
);

localparam NW = N_OUT > 1 ? $clog2(N_OUT) : 1;
localparam [1:0] M_SPIKES = 2'd0, M_VOLTS = 2'd1, M_END = 2'd2;
localparam [31:0] N_LAST32 = N_OUT - 1;
localparam [15:0] N_LAST = N_LAST32[15:0];

reg [1:0] mode_reg;
reg [N_OUT-1:0] vec_reg;          // spikes of a tick still to send
reg [13:0] vec_tick_reg;          // their tick
reg [13:0] tick_reg;              // rasters seen in this event
reg [24*N_OUT-1:0] v_reg;         // the final voltages
reg [15:0] event_reg;
reg [15:0] n_reg;                 // neuron of the next voltage word
reg [31:0] m_data_reg;
reg m_valid_reg, m_last_reg;

wire s_eoe = s_data[24*N_OUT+16];

// lowest pending spike
wire [NW-1:0] idx;
wire [N_OUT-1:0] idx_onehot;
wire vec_any;
nc_prio_enc #(
    .WIDTH(N_OUT)
) lowest (
    .req(vec_reg),
    .index(idx),
    .onehot(idx_onehot),
    .valid(vec_any)
);

wire out_free = !m_valid_reg || m_axis_tready;
wire spk_go = mode_reg == M_SPIKES && vec_any && out_free;
wire [N_OUT-1:0] vec_rest = vec_reg & ~idx_onehot;   // without the lowest bit
wire can_take = mode_reg == M_SPIKES && (!vec_any || (spk_go && vec_rest == 0));
wire take = s_valid && can_take;
assign s_ready = can_take;

assign m_axis_tdata = m_data_reg;
assign m_axis_tvalid = m_valid_reg;
assign m_axis_tlast = m_last_reg;
assign busy = mode_reg != M_SPIKES || vec_reg != 0 || m_valid_reg;

always @(posedge clk) begin
    if (m_axis_tready) m_valid_reg <= 1'b0;

    if (spk_go) begin
        m_data_reg <= {2'b00, vec_tick_reg, {(16-NW){1'b0}}, idx};
        m_valid_reg <= 1'b1;
        m_last_reg <= 1'b0;
        vec_reg <= vec_rest;
    end
    if (take) begin
        if (s_eoe) begin
            v_reg <= s_data[24*N_OUT-1:0];
            event_reg <= s_data[24*N_OUT+15:24*N_OUT];
            n_reg <= 0;
            mode_reg <= M_VOLTS;
        end else begin
            vec_reg <= s_data[N_OUT-1:0];
            vec_tick_reg <= tick_reg;
            tick_reg <= tick_reg + 1;
        end
    end
    if (mode_reg == M_VOLTS && out_free) begin
        m_data_reg <= {2'b11, n_reg[5:0], v_reg[n_reg*24 +: 24]};
        m_valid_reg <= 1'b1;
        m_last_reg <= 1'b0;
        n_reg <= n_reg + 1;
        if (n_reg == N_LAST) mode_reg <= M_END;
    end
    if (mode_reg == M_END && out_free) begin
        m_data_reg <= {2'b10, tick_reg, event_reg};
        m_valid_reg <= 1'b1;
        m_last_reg <= 1'b1;
        tick_reg <= 0;
        mode_reg <= M_SPIKES;
    end

    if (rst) begin
        mode_reg <= M_SPIKES;
        vec_reg <= 0;
        tick_reg <= 0;
        m_valid_reg <= 1'b0;
        m_last_reg <= 1'b0;
    end
end

endmodule

`resetall
