// Verilator main of the bulk co-simulation testbench (nc_stream_tb.v): a 250 MHz clock, 1 ps precision.
#include <memory>

#include "Vstream.h"
#include "verilated.h"

int main(int argc, char** argv) {
    const std::unique_ptr<VerilatedContext> context{new VerilatedContext};
    context->commandArgs(argc, argv);
    const std::unique_ptr<Vstream> top{new Vstream{context.get()}};
    top->clk = 0;
    while (!context->gotFinish()) {
        top->eval();
        context->timeInc(2000);  // half a 4 ns period, in 1 ps units
        top->clk = !top->clk;
    }
    top->final();
    return 0;
}
