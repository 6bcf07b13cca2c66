//! How a delivery attempt ended, and what follows from it (PRODUCT.md §5).

/// What the partner's endpoint did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    Status(u16),
    Timeout,
    /// Connection refused or reset, DNS failure, TLS failure.
    Transport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Try again later (if the schedule allows).
    Retry,
    /// The partner refused this lead: no retry, the lead fails over.
    Rejected,
    /// 410 Gone: rejected, and the partner is paused.
    RejectedAndPause,
}

pub fn classify(r: Response) -> Verdict {
    match r {
        Response::Status(s) if (200..300).contains(&s) => Verdict::Delivered,
        Response::Status(410) => Verdict::RejectedAndPause,
        Response::Status(408 | 425 | 429) => Verdict::Retry,
        Response::Status(s) if s >= 500 => Verdict::Retry,
        Response::Status(_) => Verdict::Rejected,
        Response::Timeout | Response::Transport => Verdict::Retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_answer_has_its_verdict() {
        for s in [200, 201, 202, 204, 299] {
            assert_eq!(classify(Response::Status(s)), Verdict::Delivered, "{s}");
        }
        for s in [408, 425, 429, 500, 502, 503, 504, 599] {
            assert_eq!(classify(Response::Status(s)), Verdict::Retry, "{s}");
        }
        for s in [100, 301, 302, 307, 400, 401, 403, 404, 409, 422] {
            assert_eq!(classify(Response::Status(s)), Verdict::Rejected, "{s}");
        }
        assert_eq!(classify(Response::Status(410)), Verdict::RejectedAndPause);
        assert_eq!(classify(Response::Timeout), Verdict::Retry);
        assert_eq!(classify(Response::Transport), Verdict::Retry);
    }
}
