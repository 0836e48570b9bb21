//! CPU time of processes and threads from `/proc` (Linux), for `opsline bench idle`.
//!
//! `/proc/<pid>/stat` fields 14 and 15 (`utime`, `stime`) count the CPU time of every
//! thread of a process in clock ticks; `/proc/<pid>/task/<tid>/stat` counts one thread.
//! Two snapshots and the wall time between them give the share of one core.

use std::collections::BTreeMap;
use std::path::Path;

/// CPU time of one process or thread at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// Process or thread id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: u32,
    /// Short name (`comm`): the executable, or the thread's name.
    pub name: String,
    /// User plus system time, in clock ticks.
    pub ticks: u64,
}

/// Parses one `/proc/.../stat` line; `None` when it is not one.
///
/// The name sits between the first `(` and the *last* `)`: it may itself hold spaces
/// and parentheses.
pub fn parse_stat(line: &str) -> Option<Stat> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let pid = line.get(..open)?.trim().parse().ok()?;
    let name = line.get(open + 1..close)?.to_owned();
    // After the name: state(3) ppid(4) ... utime(14) stime(15), so index 0 is field 3.
    let rest: Vec<&str> = line.get(close + 1..)?.split_whitespace().collect();
    let ppid = rest.get(1)?.parse().ok()?;
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some(Stat {
        pid,
        ppid,
        name,
        ticks: utime.saturating_add(stime),
    })
}

fn read_stat(path: &Path) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(path).ok()?)
}

/// The process `pid` now; `None` when it is gone.
pub fn process(pid: u32) -> Option<Stat> {
    read_stat(&Path::new("/proc").join(pid.to_string()).join("stat"))
}

/// Every thread of process `pid` now, by thread id.
pub fn threads(pid: u32) -> BTreeMap<u32, Stat> {
    let dir = Path::new("/proc").join(pid.to_string()).join("task");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| read_stat(&entry.path().join("stat")))
        .map(|stat| (stat.pid, stat))
        .collect()
}

/// `root` and every process below it (children, their children, ...), root first.
pub fn process_tree(root: u32) -> Vec<Stat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let all: Vec<Stat> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|entry| read_stat(&entry.path().join("stat")))
        .collect();
    descendants(root, &all)
}

/// `root` and its descendants among `all`, root first, then breadth first.
pub fn descendants(root: u32, all: &[Stat]) -> Vec<Stat> {
    let mut tree: Vec<Stat> = all.iter().filter(|s| s.pid == root).cloned().collect();
    let mut next = 0;
    while next < tree.len() {
        let parent = tree[next].pid;
        tree.extend(all.iter().filter(|s| s.ppid == parent && s.pid != root).cloned());
        next += 1;
    }
    tree
}

/// Clock ticks per second (`getconf CLK_TCK`; 100, the Linux user-space value, when unknown).
pub fn ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|&hz: &u64| hz > 0)
        .unwrap_or(100)
}

/// The 1-minute load average (`/proc/loadavg`), 0 when unknown.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Share of one core, in percent, of `ticks` used over `seconds`.
pub fn percent_of_core(ticks: u64, ticks_per_second: u64, seconds: f64) -> f64 {
    if seconds <= 0.0 || ticks_per_second == 0 {
        return 0.0;
    }
    ticks as f64 / ticks_per_second as f64 / seconds * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_with_spaces_and_parentheses_in_the_name() {
        let line = "4242 (rdk:broker (1) x) S 4200 4242 4200 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 12 0 9 0 0";
        let stat = parse_stat(line).unwrap();
        assert_eq!(stat.pid, 4242);
        assert_eq!(stat.ppid, 4200);
        assert_eq!(stat.name, "rdk:broker (1) x");
        assert_eq!(stat.ticks, 1234 + 567);
    }

    #[test]
    fn rejects_what_is_not_a_stat_line() {
        assert_eq!(parse_stat(""), None);
        assert_eq!(parse_stat("12 (x) S 1"), None);
        assert_eq!(parse_stat("x (y) S 1 2 3 4 5 6 7 8 9 10 11 12 13"), None);
    }

    #[test]
    fn the_tree_holds_children_and_grandchildren_but_not_strangers() {
        let stat = |pid, ppid| Stat {
            pid,
            ppid,
            name: format!("p{pid}"),
            ticks: 0,
        };
        let all = vec![
            stat(1, 0),
            stat(10, 1),
            stat(11, 10),
            stat(12, 11),
            stat(20, 1),
            stat(13, 10),
        ];
        let pids: Vec<u32> = descendants(10, &all).iter().map(|s| s.pid).collect();
        assert_eq!(pids, vec![10, 11, 13, 12]);
        assert!(descendants(99, &all).is_empty());
    }

    #[test]
    fn the_own_process_is_found_and_its_share_is_a_percentage() {
        let me = process(std::process::id()).unwrap();
        assert_eq!(me.pid, std::process::id());
        assert!(!threads(me.pid).is_empty());
        assert!((percent_of_core(150, 100, 10.0) - 15.0).abs() < 1e-9);
        assert!(percent_of_core(150, 100, 0.0).abs() < f64::EPSILON);
    }
}
