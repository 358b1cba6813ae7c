//! The part plan: how a multipart object of a declared size is cut into parts, decided from
//! the size alone, so the service can bound an object without keeping any state.
//!
//! Part size `P = max(PRESIGN_PART_BYTES, ceil(L / 10000))`, part count
//! `N = max(1, ceil(L / P))`; parts 1 to N-1 are `P` bytes, part N the rest. All parts but the
//! last are then the same size (which R2 requires), at most 10,000 parts (S3's limit), and with
//! the default 5 MiB this is exactly Uppy's own chunking. A caller who declares different sizes
//! on different part requests still cannot assemble more than `N(max) x P(max)` bytes, which is
//! below `PRESIGN_MAX_BYTES + P`.

/// S3's largest part number.
pub const MAX_PARTS: u64 = 10_000;

/// The plan for one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    part_bytes: u64,
    count: u64,
    last_bytes: u64,
}

impl PartPlan {
    /// The plan for an object of `object_bytes` (at least 1) with parts of at least
    /// `min_part_bytes` (at least 1).
    pub fn new(object_bytes: u64, min_part_bytes: u64) -> PartPlan {
        let part_bytes = min_part_bytes.max(object_bytes.div_ceil(MAX_PARTS)).max(1);
        let count = object_bytes.div_ceil(part_bytes).max(1);
        let last_bytes = object_bytes - (count - 1) * part_bytes;
        PartPlan { part_bytes, count, last_bytes }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn part_bytes(&self) -> u64 {
        self.part_bytes
    }

    /// The size of part `number` (from 1), or `None` beyond the plan.
    pub fn part_len(&self, number: u64) -> Option<u64> {
        match number {
            0 => None,
            n if n < self.count => Some(self.part_bytes),
            n if n == self.count => Some(self.last_bytes),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn uppy_default_chunking() {
        // 12 MiB in 5 MiB parts: 5 + 5 + 2.
        let p = PartPlan::new(12 * MIB, 5 * MIB);
        assert_eq!((p.count(), p.part_len(1), p.part_len(2), p.part_len(3), p.part_len(4)), (3, Some(5 * MIB), Some(5 * MIB), Some(2 * MIB), None));
        assert_eq!(p.part_len(0), None);
        // Exactly a multiple: the last part is a full one.
        let p = PartPlan::new(10 * MIB, 5 * MIB);
        assert_eq!((p.count(), p.part_len(2)), (2, Some(5 * MIB)));
        // Smaller than one part: one part of the whole size.
        let p = PartPlan::new(1, 5 * MIB);
        assert_eq!((p.count(), p.part_len(1), p.part_len(2)), (1, Some(1), None));
    }

    #[test]
    fn huge_objects_grow_the_part_size_to_stay_within_10000_parts() {
        let five_tib = 5 * 1024 * 1024 * MIB;
        let p = PartPlan::new(five_tib, 5 * MIB);
        assert_eq!(p.part_bytes(), five_tib.div_ceil(10_000));
        assert!(p.count() <= MAX_PARTS);
        assert_eq!((p.count() - 1) * p.part_bytes() + p.part_len(p.count()).unwrap(), five_tib);
    }

    #[test]
    fn every_plan_adds_up_and_keeps_equal_parts() {
        for size in [1, 2, 5 * MIB - 1, 5 * MIB, 5 * MIB + 1, 52_428_800_001, 99_999 * MIB + 7] {
            let p = PartPlan::new(size, 5 * MIB);
            let total: u64 = (1..=p.count()).map(|n| p.part_len(n).unwrap()).sum();
            assert_eq!(total, size);
            assert!(p.count() <= MAX_PARTS);
            let last = p.part_len(p.count()).unwrap();
            assert!(last >= 1 && last <= p.part_bytes());
        }
    }
}
