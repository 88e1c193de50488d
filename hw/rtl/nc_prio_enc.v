`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Priority encoder: the lowest set bit of req.
 *
 *   valid  = req != 0
 *   onehot = req & ~(req - 1)                     (the lowest set bit alone; 0 when none)
 *   index  = the i with onehot[i] set             (0 when none)
 *
 * Combinational, without a borrow chain: onehot[i] = req[i] & ~|req[i-1:0] (prefix ORs) and
 * index bit b = OR of onehot[i] over the i with bit b set, so synthesis can balance every OR.
 */
module nc_prio_enc #
(
    // bits of the request vector
    parameter WIDTH = 4,
    // bits of the index (derived: leave at the default)
    parameter IW = WIDTH > 1 ? $clog2(WIDTH) : 1
)
(
    input  wire [WIDTH-1:0] req,
    output wire [IW-1:0]    index,
    output wire [WIDTH-1:0] onehot,
    output wire             valid
);

reg [WIDTH-1:0] onehot_r;
reg [IW-1:0] index_r;
integer i;
always @* begin
    index_r = 0;
    for (i = 0; i < WIDTH; i = i + 1) begin
        onehot_r[i] = req[i] && (req & ({WIDTH{1'b1}} >> (WIDTH - i))) == 0;  // no lower bit set
        index_r = index_r | (onehot_r[i] ? i[IW-1:0] : {IW{1'b0}});
    end
end

assign index = index_r;
assign onehot = onehot_r;
assign valid = req != 0;

endmodule

`resetall
