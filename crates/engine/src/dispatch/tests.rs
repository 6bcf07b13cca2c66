use super::launcher::time_to_send;
use super::*;

#[test]
fn a_send_starts_only_if_it_ends_within_the_lease() {
    let settings = WorkerSettings {
        retry_schedule: vec![],
        timeout: Duration::from_secs(5),
        pause_after_failures: 10,
        max_in_flight: 1,
        retry_after_cap: Duration::ZERO,
        drain_deadline: Duration::ZERO,
    };
    let (timeout, lease) = (settings.timeout, settings.lease().as_millis() as i64);
    assert_eq!(lease, 25_000, "timeout + 10 s to record + 10 s to wait");
    // Plenty of time at once...
    assert!(time_to_send(lease, 0, timeout));
    // ...still enough after waiting 10 s for a free slot...
    assert!(time_to_send(lease, 10_000, timeout));
    // ...but not once the answer could not be recorded 10 s before the lease ends.
    assert!(!time_to_send(lease, 10_001, timeout));
    assert!(!time_to_send(lease, 24_000, timeout));
}
