//! Decoding of AWS query-protocol parameters.
//!
//! SDKs send `application/x-www-form-urlencoded` bodies on POST; Envoy and
//! older tools put the same parameters in the query string of a GET. Lists
//! arrive as `Name.member.N` and maps of tags as `Tags.member.N.Key`/`Value`.

use std::collections::BTreeMap;

/// The decoded parameters of one request.
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: BTreeMap<String, String>,
    duplicates: Vec<String>,
}

impl Params {
    /// Decodes form-encoded bytes. A parameter given twice keeps its first
    /// value; the repeated names are kept for [`Params::duplicates`].
    pub fn decode(raw: &[u8]) -> Self {
        Self::from_pairs(form_urlencoded_pairs(raw))
    }

    /// Builds parameters from name-value pairs, as a caller inside the
    /// process sends them; the first of two equal names wins, as in
    /// [`Params::decode`].
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut params = Params::default();
        for (name, value) in pairs {
            match params.values.entry(name) {
                std::collections::btree_map::Entry::Occupied(entry) => {
                    params.duplicates.push(entry.key().clone());
                }
                std::collections::btree_map::Entry::Vacant(entry) => {
                    entry.insert(value);
                }
            }
        }
        params
    }

    /// Merges another set (the query string of a POST) under this one:
    /// names already present keep their value. Names the other set repeats
    /// count as repeated here too.
    pub fn merge_missing(&mut self, other: Params) {
        for (name, value) in other.values {
            self.values.entry(name).or_insert(value);
        }
        self.duplicates.extend(other.duplicates);
    }

    /// Returns a parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Whether the request named the parameter, even with an empty value.
    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Returns the members of the list `name` (`name.member.1`, …) in index
    /// order, or `None` when the list was not sent at all. An empty list is
    /// sent as the bare `name=` parameter.
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        let members = self.members(name, "");
        if members.is_empty() {
            return self.contains(name).then(Vec::new);
        }
        Some(members)
    }

    /// Returns `field` of each structure in the list `name`
    /// (`name.member.1.field`, …) in index order. SDKs send a list of
    /// structures this way, as in `PolicyArns.member.1.arn`. Returns `None`
    /// when no member has the field.
    pub fn list_field(&self, name: &str, field: &str) -> Option<Vec<String>> {
        let members = self.members(name, &format!(".{field}"));
        (!members.is_empty()).then_some(members)
    }

    /// Collects the values of `name.member.N` + `suffix`, in index order.
    fn members(&self, name: &str, suffix: &str) -> Vec<String> {
        let prefix = format!("{name}.member.");
        let mut members: Vec<(u32, String)> = self
            .values
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .filter_map(|(key, value)| {
                let index = key[prefix.len()..].strip_suffix(suffix)?;
                Some((index.parse::<u32>().ok()?, value.clone()))
            })
            .collect();
        members.sort_by_key(|(index, _)| *index);
        members.into_iter().map(|(_, value)| value).collect()
    }

    /// Returns the `Tags.member.N.Key`/`Value` pairs in index order.
    pub fn tags(&self, name: &str) -> Vec<(String, String)> {
        let prefix = format!("{name}.member.");
        let mut indexes: Vec<u32> = self
            .values
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .filter_map(|(key, _)| key[prefix.len()..].split('.').next()?.parse().ok())
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        indexes
            .into_iter()
            .map(|index| {
                let key = self
                    .get(&format!("{prefix}{index}.Key"))
                    .unwrap_or_default();
                let value = self
                    .get(&format!("{prefix}{index}.Value"))
                    .unwrap_or_default();
                (key.to_owned(), value.to_owned())
            })
            .collect()
    }

    /// Names that the request sent more than once.
    pub fn duplicates(&self) -> &[String] {
        &self.duplicates
    }

    /// The distinct parameter names, in sorted order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// Number of distinct parameters.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the request carried no parameters.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Splits a form body into owned pairs: `+` becomes a space, as SDK form
/// bodies rely on, and bytes that are not UTF-8 after percent-decoding
/// become U+FFFD, so the caller still gets a parameter-level error rather
/// than a dropped request.
fn form_urlencoded_pairs(raw: &[u8]) -> impl Iterator<Item = (String, String)> {
    form_urlencoded::parse(raw).map(|(name, value)| (name.into_owned(), value.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_members_sorted_by_index() {
        let params = Params::decode(b"L.member.2=b&L.member.10=c&L.member.1=a");
        assert_eq!(params.list("L").unwrap(), vec!["a", "b", "c"]);
    }

    #[test]
    fn absent_list_is_none_and_bare_name_is_empty() {
        assert_eq!(Params::decode(b"X=1").list("L"), None);
        assert_eq!(Params::decode(b"L=").list("L"), Some(vec![]));
    }

    #[test]
    fn first_duplicate_wins() {
        let params = Params::decode(b"Action=A&Action=B");
        assert_eq!(params.get("Action"), Some("A"));
        assert_eq!(params.duplicates(), ["Action"]);
    }

    #[test]
    fn tags_pair_key_and_value() {
        let params = Params::decode(b"Tags.member.1.Key=k&Tags.member.1.Value=v");
        assert_eq!(params.tags("Tags"), vec![("k".to_owned(), "v".to_owned())]);
    }

    #[test]
    fn plus_decodes_to_space() {
        assert_eq!(Params::decode(b"A=a+b%2B").get("A"), Some("a b+"));
    }

    #[test]
    fn structure_list_fields_in_index_order() {
        let params = Params::decode(
            b"P.member.2.arn=b&P.member.1.arn=a&P.member.1.other=x&P.member.3=c&P.member.10.arn=j",
        );
        assert_eq!(
            params.list_field("P", "arn"),
            Some(vec!["a".into(), "b".into(), "j".into()])
        );
        assert_eq!(params.list_field("P", "missing"), None);
        assert_eq!(params.list("P"), Some(vec!["c".into()]));
    }

    #[test]
    fn merged_query_keeps_body_values_and_repeats() {
        let mut params = Params::decode(b"Action=FromBody&Version=1");
        params.merge_missing(Params::decode(b"Action=FromQuery&Extra=a&Extra=b"));
        assert_eq!(params.get("Action"), Some("FromBody"));
        assert_eq!(params.get("Extra"), Some("a"));
        assert_eq!(params.duplicates(), ["Extra".to_owned()]);
    }

    #[test]
    fn invalid_utf8_decodes_to_replacement() {
        let params = Params::decode(b"A=%FFx&B\xfe=1&&C");
        assert_eq!(params.get("A"), Some("\u{FFFD}x"));
        assert_eq!(params.get("B\u{FFFD}"), Some("1"));
        assert_eq!(params.get("C"), Some(""));
        assert_eq!(params.len(), 3);
    }
}
