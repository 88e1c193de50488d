# A recorder of Vivado commands for tclsh: run a board build script without Vivado and log its calls.
#
#   tclsh recorder.tcl LOG.jsonl SCRIPT.tcl [ARGS...]
#
# Each Vivado command the build scripts use is defined here to append one JSON line
# {"cmd": NAME, "args": [...]} to LOG and return the name it was given (so that
# `connect_bd_net [get_bd_pins ps/FCLK_CLK0] ...` records the endpoint names). `set_property -dict`
# is also logged one key at a time. `file copy|mkdir|delete` are logged, not performed: the script's
# outputs are a build's, and nothing is built here. A command the recorder does not define stops the
# script (tclsh's "invalid command name"): the checker then names it. neurocal.fpga.tclcheck reads the
# log and checks it; this checks the script, it does not build anything.

set nc_rec_log [open [lindex $argv 0] w]
set nc_rec_script [lindex $argv 1]
set argv [lrange $argv 2 end]
set argc [llength $argv]
set argv0 $nc_rec_script

proc nc_rec_json {s} {
    return "\"[string map [list \\ \\\\ \" \\\" \n \\n \r \\r \t \\t] $s]\""
}

proc nc_rec {cmd args} {
    global nc_rec_log
    set items {}
    foreach a $args { lappend items [nc_rec_json $a] }
    puts $nc_rec_log "{\"cmd\": [nc_rec_json $cmd], \"args\": \[[join $items {, }]\]}"
    flush $nc_rec_log
}

# commands whose value is the name they were given (object look-ups)
foreach nc_cmd {get_bd_cells get_bd_pins get_bd_intf_pins get_bd_addr_segs get_bd_addr_spaces get_files
                current_project current_fileset get_runs} {
    proc $nc_cmd {args} "nc_rec $nc_cmd {*}\$args; return \[lindex \$args end\]"
}
# commands with nothing to return
foreach nc_cmd {create_project add_files update_compile_order create_bd_design create_bd_cell
                apply_bd_automation connect_bd_net connect_bd_intf_net assign_bd_address validate_bd_design
                save_bd_design make_wrapper launch_runs wait_on_run open_run report_utilization
                report_timing_summary report_power} {
    proc $nc_cmd {args} "nc_rec $nc_cmd {*}\$args; return {}"
}

proc set_property {args} {
    nc_rec set_property {*}$args
    if {[lindex $args 0] eq "-dict"} {
        foreach {key value} [lindex $args 1] {
            nc_rec set_property $key $value [lindex $args 2]
        }
    }
    return {}
}

# a finished run, as the script expects after wait_on_run
proc get_property {name object} {
    nc_rec get_property $name $object
    switch -- $name {
        PROGRESS { return "100%" }
        DIRECTORY { return "<run:$object>" }
        default { return "<$name:$object>" }
    }
}

rename file nc_rec_file
proc file {sub args} {
    if {$sub in {copy mkdir delete rename}} {
        nc_rec "file $sub" {*}$args
        return {}
    }
    return [nc_rec_file $sub {*}$args]
}

rename source nc_rec_source
proc source {path} {
    nc_rec source $path
    uplevel #0 [list nc_rec_source $path]
}

rename exit nc_rec_exit
proc exit {{code 0}} {
    global nc_rec_log
    nc_rec exit $code
    close $nc_rec_log
    nc_rec_exit $code
}

if {[catch {uplevel #0 [list nc_rec_source $nc_rec_script]} err]} {
    nc_rec error $err
    close $nc_rec_log
    puts stderr $err
    nc_rec_exit 1
}
nc_rec end
close $nc_rec_log
