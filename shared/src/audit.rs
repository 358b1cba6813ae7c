//! The audit trail: who was allowed to sign what, decided here so both adapters log the same
//! fields. Never a token, a URL, a signature or a secret: only the caller's `sub`, the S3
//! operation, the keys (unless `LOG_OBJECT_KEYS=false`), the upload id and part numbers, the
//! signed lengths and the URLs' expiry.

use serde::Serialize;

/// What one answer signed (or, for a refusal, who was refused when that is known).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Audit {
    /// The token's `sub`, `anonymous` with auth off; absent when the caller is not known
    /// (refused before or by authentication) or the token has no `sub`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<&'static str>,
    /// How many URLs were signed.
    pub count: usize,
    /// The keys signed for (once per distinct key, in order); empty with `LOG_OBJECT_KEYS=false`
    /// or on a refusal.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// `LOG_OBJECT_KEYS=false`: the keys were left out on purpose.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub keys_omitted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub part_numbers: Vec<u16>,
    /// The signed `content-length` of each URL, in order, where one is bound (`null` where
    /// not); absent when none is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lengths: Option<Vec<Option<u64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

impl Audit {
    /// The audit of a refusal by `caller` (when known).
    pub(crate) fn refused(caller: Option<&str>) -> Audit {
        Audit { caller: caller.map(str::to_owned), ..Audit::default() }
    }

    /// Records one signed URL.
    pub(crate) fn signed(&mut self, operation: &'static str, key: &str, log_keys: bool, part_number: Option<u16>, length: Option<u64>) {
        self.operation = Some(operation);
        if log_keys {
            if self.keys.last().is_none_or(|k| k != key) {
                self.keys.push(key.to_owned());
            }
        } else {
            self.keys_omitted = true;
        }
        if let Some(n) = part_number {
            self.part_numbers.push(n);
        }
        if length.is_some() || self.lengths.is_some() {
            let lengths = self.lengths.get_or_insert_with(|| vec![None; self.count]);
            lengths.push(length);
        }
        self.count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_logs_once_with_count_keys_and_lengths() {
        let mut a = Audit::refused(Some("user-1"));
        a.signed("UploadPart", "content/a.mp4", true, Some(1), Some(5));
        a.signed("UploadPart", "content/a.mp4", true, Some(2), Some(3));
        assert_eq!((a.count, a.keys.as_slice(), a.part_numbers.as_slice()), (2, &["content/a.mp4".to_owned()][..], &[1, 2][..]));
        assert_eq!(a.lengths, Some(vec![Some(5), Some(3)]));
        let mut b = Audit::default();
        b.signed("PutObject", "content/a", false, None, None);
        b.signed("PutObject", "content/b", false, None, Some(7));
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(v, serde_json::json!({"operation": "PutObject", "count": 2, "keysOmitted": true, "lengths": [null, 7]}));
    }
}
