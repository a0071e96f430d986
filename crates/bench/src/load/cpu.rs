//! The generator's own CPU time, so a run can say what its client side cost
//! (`client_cpu_s`): `bench/compare.sh` gives the same cost per op to the
//! clients of `quire bench ceiling`.

use std::time::Duration;

/// `/proc` reports process times in USER_HZ ticks, 100 per second on Linux.
const TICKS_PER_SECOND: u64 = 100;

/// User plus system time of every thread of this process so far; `None`
/// where `/proc/self/stat` cannot be read.
pub(crate) fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat(&stat)
}

/// Fields 14 and 15 (utime, stime) of a `/proc/PID/stat` line. The command
/// name (field 2) is in parentheses and may hold spaces and parentheses, so
/// fields are counted after its last `)`.
fn parse_stat(stat: &str) -> Option<Duration> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    let ticks = user.checked_add(system)?;
    Some(Duration::from_millis(
        ticks.checked_mul(1000 / TICKS_PER_SECOND)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utime_and_stime_are_read_after_the_command_name() {
        let line = "4242 (quire (bench) x) R 1 4242 4242 0 -1 4194304 90 0 0 0 \
                    123 45 0 0 20 0 3 0 100 0 0";
        assert_eq!(parse_stat(line), Some(Duration::from_millis(1680)));
    }

    #[test]
    fn a_truncated_line_gives_nothing() {
        assert_eq!(parse_stat("4242 (quire) R 1 2 3"), None);
        assert_eq!(parse_stat("no parentheses"), None);
    }

    #[test]
    fn this_process_has_spent_some_time() {
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {
            std::hint::spin_loop();
        }
        assert!(process_cpu().is_some_and(|cpu| cpu >= Duration::from_millis(10)));
    }
}
