//! Secret detectors at the breadth of gitleaks' default rules for the credentials LLM
//! applications carry: provider keys that announce themselves by prefix (OpenAI, Anthropic,
//! Google, GitHub, GitLab, Slack, Stripe, Hugging Face, Groq, Replicate, xAI, Perplexity,
//! OpenRouter, NVIDIA), AWS keys, Azure keys by their keyword, private keys in PEM, passwords in
//! URLs and connection strings, JWTs, bearer tokens, and generic `api_key = "…"` assignments
//! with an entropy check. [`Secrets::find`] reports spans and rule ids; like the PII detectors
//! it never masks, logs or stores anything. Secrets are always masked by the layers above, never
//! pseudonymised.

use std::sync::{Arc, OnceLock};

use aho_corasick::AhoCorasick;
use regex::Regex;

/// One rule: its id (gitleaks' name where there is one), and a pattern whose first capture
/// group, when it has one, is the secret itself (the rest is context such as a keyword).
/// Rules found by a keyword rather than a prefix also check that the value looks random.
struct Rule {
    id: &'static str,
    pattern: &'static str,
    /// Generic rules also need the value to look random (Shannon entropy, bits per char).
    min_entropy: Option<f64>,
    /// Literals of which every match holds at least one, compared ASCII-case-insensitively
    /// (gitleaks' `keywords`): a text holding none of a rule's keywords is not searched with
    /// its pattern. Most text holds none of them, so most of the 23 searches are skipped.
    keywords: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        id: "anthropic-api-key",
        pattern: r"(?-u:\b)sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_\-]{32,}",
        min_entropy: None,
        keywords: &["sk-ant-"],
    },
    Rule {
        id: "openai-api-key",
        pattern: r"(?-u:\b)sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,}|(?-u:\b)sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}(?-u:\b)|(?-u:\b)sk-[A-Za-z0-9]{32,}(?-u:\b)",
        min_entropy: None,
        keywords: &["sk-"],
    },
    Rule {
        id: "openrouter-api-key",
        pattern: r"(?-u:\b)sk-or-v1-[a-f0-9]{64}(?-u:\b)",
        min_entropy: None,
        keywords: &["sk-or-v1-"],
    },
    Rule {
        id: "gcp-api-key",
        pattern: r"(?-u:\b)AIza[0-9A-Za-z_\-]{35}(?-u:\b)",
        min_entropy: None,
        keywords: &["AIza"],
    },
    Rule {
        id: "aws-access-key-id",
        pattern: r"(?-u:\b)(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?-u:\b)",
        min_entropy: None,
        keywords: &["A3T", "AKIA", "ASIA", "ABIA", "ACCA"],
    },
    Rule {
        id: "aws-secret-access-key",
        pattern: r#"(?i)aws.{0,20}?(?:secret|private)?.{0,20}?(?:key|token)["']?(?-u:\s)*[:=](?-u:\s)*["']?([A-Za-z0-9/+]{40})(?-u:\b)"#,
        min_entropy: Some(4.0),
        keywords: &["aws"],
    },
    Rule {
        id: "azure-openai-key",
        pattern: r#"(?i)(?:azure|openai|cognitive|ocp-apim-subscription)[A-Za-z0-9_.\-]{0,30}?(?:key|secret)["']?(?-u:\s)*[:=](?-u:\s)*["']?([a-f0-9]{32}|[A-Za-z0-9]{84})(?-u:\b)"#,
        min_entropy: Some(3.0),
        keywords: &["azure", "openai", "cognitive", "ocp-apim-subscription"],
    },
    Rule {
        id: "github-token",
        pattern: r"(?-u:\b)(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}(?-u:\b)|(?-u:\b)github_pat_[A-Za-z0-9_]{82}(?-u:\b)",
        min_entropy: None,
        keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
    },
    Rule {
        id: "gitlab-token",
        pattern: r"(?-u:\b)gl(?:pat|ptt|dt|rt|cbt|soat|ffct|imt|agent)-[A-Za-z0-9_\-]{20,}",
        min_entropy: None,
        keywords: &[
            "glpat-", "glptt-", "gldt-", "glrt-", "glcbt-", "glsoat-", "glffct-", "glimt-",
            "glagent-",
        ],
    },
    Rule {
        id: "slack-token",
        pattern: r"(?-u:\b)xox[bparesc]-[0-9A-Za-z\-]{10,}",
        min_entropy: None,
        keywords: &["xox"],
    },
    Rule {
        id: "slack-webhook-url",
        pattern: r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{20,}",
        min_entropy: None,
        keywords: &["hooks.slack.com"],
    },
    Rule {
        id: "stripe-key",
        pattern: r"(?-u:\b)(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{20,}(?-u:\b)",
        min_entropy: None,
        keywords: &[
            "sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_",
        ],
    },
    Rule {
        id: "huggingface-token",
        pattern: r"(?-u:\b)hf_[A-Za-z]{34}(?-u:\b)|(?-u:\b)api_org_[A-Za-z]{34}(?-u:\b)",
        min_entropy: None,
        keywords: &["hf_", "api_org_"],
    },
    Rule {
        id: "groq-api-key",
        pattern: r"(?-u:\b)gsk_[A-Za-z0-9]{48,56}(?-u:\b)",
        min_entropy: None,
        keywords: &["gsk_"],
    },
    Rule {
        id: "replicate-api-token",
        pattern: r"(?-u:\b)r8_[A-Za-z0-9]{37}(?-u:\b)",
        min_entropy: None,
        keywords: &["r8_"],
    },
    Rule {
        id: "xai-api-key",
        pattern: r"(?-u:\b)xai-[A-Za-z0-9]{70,}(?-u:\b)",
        min_entropy: None,
        keywords: &["xai-"],
    },
    Rule {
        id: "perplexity-api-key",
        pattern: r"(?-u:\b)pplx-[A-Za-z0-9]{40,}(?-u:\b)",
        min_entropy: None,
        keywords: &["pplx-"],
    },
    Rule {
        id: "nvidia-api-key",
        pattern: r"(?-u:\b)nvapi-[A-Za-z0-9_\-]{60,}(?-u:\b)",
        min_entropy: None,
        keywords: &["nvapi-"],
    },
    Rule {
        id: "private-key",
        pattern: r"-----BEGIN[ A-Z0-9_\-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?s:.){16,}?-----END[ A-Z0-9_\-]{0,100}PRIVATE KEY(?: BLOCK)?-----",
        min_entropy: None,
        keywords: &["PRIVATE KEY"],
    },
    Rule {
        id: "password-in-url",
        pattern: r"(?-u:\b)[a-zA-Z][a-zA-Z0-9+.\-]{1,20}://[^ \t\r\n/:@]{1,64}:([^ \t\r\n/@]{3,128})@[A-Za-z0-9.\-\[\]]",
        min_entropy: None,
        keywords: &["://"],
    },
    Rule {
        id: "jwt",
        pattern: r"(?-u:\b)eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
        min_entropy: None,
        keywords: &["eyJ"],
    },
    Rule {
        id: "bearer-token",
        pattern: r"(?i)(?-u:\b)bearer(?-u:\s)+([A-Za-z0-9._~+/\-]{16,}=*)",
        min_entropy: Some(3.0),
        keywords: &["bearer"],
    },
    Rule {
        id: "generic-api-key",
        pattern: r#"(?i)(?-u:\b)(?:api[_\-]?key|api[_\-]?secret|access[_\-]?key|secret[_\-]?key|client[_\-]?secret|auth[_\-]?token|access[_\-]?token|secret|token|password|passwd)["']?(?-u:\s)*[:=](?-u:\s)*["']?([A-Za-z0-9_\-+/=.~]{16,})"#,
        min_entropy: Some(3.5),
        keywords: &["key", "secret", "token", "password", "passwd"],
    },
];

/// One secret found: `text[start..end]` and the id of the rule that found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFinding {
    pub start: usize,
    pub end: usize,
    pub rule: &'static str,
}

/// Every rule, each compiled the first time a text holds one of its keywords. Each pattern
/// starts from a literal (a prefix or a keyword), which the regex engine finds with a vectorised
/// search, so a text without secrets costs little. A `RegexSet` in front scanned faster (448
/// against 340 MB/s on one core, `benches/detect.sh`) but doubled the compile time (8 against
/// 4 ms), past the 5 ms start-up budget; both are far above the 50 MB/s target. Compiling the 23
/// patterns up front took those 4 ms at every start (a quarter of loading issue 12's policy
/// set), while most texts hold no keyword and most runs never need most rules. Patterns use
/// ASCII `\b` and `\s`: Unicode word boundaries tripled the compile time and keys are ASCII.
#[derive(Clone)]
pub struct Secrets {
    /// Shared by every clone, so a pattern is compiled once per process, not once per copy
    /// (`pii scan` clones the protector for every interaction it checks).
    rules: Arc<[(OnceLock<Regex>, &'static Rule)]>,
    /// Every rule's keywords, ASCII-case-insensitively, in one automaton.
    keywords: AhoCorasick,
    /// For each keyword of `keywords`, the index of its rule.
    keyword_rule: Vec<usize>,
}

impl Default for Secrets {
    fn default() -> Self {
        Secrets::new()
    }
}

impl Secrets {
    pub fn new() -> Secrets {
        let rules = RULES.iter().map(|rule| (OnceLock::new(), rule)).collect();
        let (words, keyword_rule): (Vec<&str>, Vec<usize>) = RULES
            .iter()
            .enumerate()
            .flat_map(|(i, rule)| rule.keywords.iter().map(move |k| (*k, i)))
            .unzip();
        let keywords = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(words)
            .expect("secret keywords compile");
        Secrets {
            rules,
            keywords,
            keyword_rule,
        }
    }

    /// The ids of every rule, for reports and documentation.
    pub fn rule_ids() -> impl Iterator<Item = &'static str> {
        RULES.iter().map(|r| r.id)
    }

    /// Every secret in `text`: sorted, non-overlapping (the longer of two overlapping wins, then
    /// the earlier).
    pub fn find(&self, text: &str) -> Vec<SecretFinding> {
        // Which rules' keywords the text holds: one pass, overlapping, so that `sk-ant-` also
        // counts as `sk-`.
        let mut wanted = [false; RULES.len()];
        for hit in self.keywords.find_overlapping_iter(text) {
            wanted[self.keyword_rule[hit.pattern().as_usize()]] = true;
        }
        self.find_with(text, wanted)
    }

    /// [`Secrets::find`] with only the rules `wanted` says.
    fn find_with(&self, text: &str, wanted: [bool; RULES.len()]) -> Vec<SecretFinding> {
        let mut found = Vec::new();
        for ((compiled, rule), _) in self.rules.iter().zip(wanted).filter(|(_, w)| *w) {
            // The patterns are constants, checked by a test; a bad one is a programming error.
            let regex =
                compiled.get_or_init(|| Regex::new(rule.pattern).expect("secret rule compiles"));
            for captures in regex.captures_iter(text) {
                let Some(span) = captures.get(1).or_else(|| captures.get(0)) else {
                    continue;
                };
                // Nothing to find in an already masked value (`user:***@`, `REDACTED`).
                if span.is_empty() || is_masked(span.as_str()) {
                    continue;
                }
                if rule
                    .min_entropy
                    .is_some_and(|min| !looks_random(span.as_str(), min))
                {
                    continue;
                }
                found.push(SecretFinding {
                    start: span.start(),
                    end: span.end(),
                    rule: rule.id,
                });
            }
        }
        found.sort_by(|a, b| {
            a.start
                .cmp(&b.start)
                .then((b.end - b.start).cmp(&(a.end - a.start)))
        });
        let mut kept: Vec<SecretFinding> = Vec::with_capacity(found.len());
        for finding in found {
            match kept.last_mut() {
                Some(last) if finding.start < last.end => {
                    if finding.end - finding.start > last.end - last.start {
                        *last = finding;
                    }
                }
                _ => kept.push(finding),
            }
        }
        kept
    }
}

/// A value that is a mask, not a secret.
fn is_masked(value: &str) -> bool {
    value.bytes().all(|b| b == b'*') || value.contains("REDACTED")
}

/// Whether a value found by a keyword looks like a generated key rather than a placeholder or a
/// phrase: letters and digits mixed, and at least `min` bits of entropy per character (gitleaks'
/// generic rule uses 3.5).
fn looks_random(value: &str, min: f64) -> bool {
    value.bytes().any(|b| b.is_ascii_digit())
        && value.bytes().any(|b| b.is_ascii_alphabetic())
        && entropy(value) >= min
}

/// Shannon entropy in bits per character: random keys score about 4.5–6, words and repeated
/// characters far less.
fn entropy(text: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in text.bytes() {
        counts[usize::from(b)] += 1;
    }
    let len = text.len() as f64;
    counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = f64::from(n) / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key-shaped string made at test time, so no credential-looking literal sits in the
    /// repository for scanners to flag.
    fn key(prefix: &str, alphabet: &str, len: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let body: String = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                chars[(state % chars.len() as u64) as usize]
            })
            .collect();
        format!("{prefix}{body}")
    }

    const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const HEX: &str = "0123456789abcdef";
    const UPPER32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    fn rules_in(text: &str) -> Vec<&'static str> {
        Secrets::new().find(text).iter().map(|f| f.rule).collect()
    }

    #[test]
    fn clones_share_the_patterns_compiled_on_first_use() {
        let original = Secrets::new();
        let copy = original.clone();
        let text = format!("key = {}", key("sk-proj-", ALNUM, 40));
        assert_eq!(copy.find(&text).len(), 1);
        let compiled = |s: &Secrets| s.rules.iter().filter(|(r, _)| r.get().is_some()).count();
        assert!(compiled(&original) >= 1, "the copy compiled for both");
        assert_eq!(compiled(&original), compiled(&copy));
    }

    #[test]
    fn every_family_is_found_with_its_span() {
        let cases = [
            (key("sk-proj-", ALNUM, 48), "openai-api-key"),
            (key("sk-svcacct-", ALNUM, 48), "openai-api-key"),
            (key("sk-admin-", ALNUM, 40), "openai-api-key"),
            (key("sk-", ALNUM, 48), "openai-api-key"),
            (key("sk-ant-api03-", ALNUM, 93), "anthropic-api-key"),
            (key("sk-or-v1-", HEX, 64), "openrouter-api-key"),
            (key("AIza", ALNUM, 35), "gcp-api-key"),
            (key("AKIA", UPPER32, 16), "aws-access-key-id"),
            (key("ghp_", ALNUM, 36), "github-token"),
            (key("github_pat_", ALNUM, 82), "github-token"),
            (key("glpat-", ALNUM, 20), "gitlab-token"),
            (key("xoxb-", ALNUM, 40), "slack-token"),
            (
                key("https://hooks.slack.com/services/", ALNUM, 44),
                "slack-webhook-url",
            ),
            (key("sk_live_", ALNUM, 24), "stripe-key"),
            (key("rk_live_", ALNUM, 24), "stripe-key"),
            (key("hf_", LETTERS, 34), "huggingface-token"),
            (key("gsk_", ALNUM, 52), "groq-api-key"),
            (key("r8_", ALNUM, 37), "replicate-api-token"),
            (key("xai-", ALNUM, 80), "xai-api-key"),
            (key("pplx-", ALNUM, 48), "perplexity-api-key"),
            (key("nvapi-", ALNUM, 64), "nvidia-api-key"),
            (
                format!(
                    "{}.{}.{}",
                    key("eyJ", ALNUM, 20),
                    key("eyJ", ALNUM, 30),
                    key("", ALNUM, 43)
                ),
                "jwt",
            ),
        ];
        for (secret, rule) in &cases {
            let text = format!("config: \"{secret}\" and more");
            let found = Secrets::new().find(&text);
            assert_eq!(found.len(), 1, "{rule}: {secret} -> {found:?}");
            assert_eq!(found[0].rule, *rule, "{secret}");
            assert_eq!(
                &text[found[0].start..found[0].end],
                secret.as_str(),
                "{rule}"
            );
        }
    }

    #[test]
    fn context_rules_mark_only_the_value() {
        let aws = key(
            "",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+",
            40,
        );
        let azure = key("", HEX, 32);
        let generic = key("", ALNUM, 32);
        let bearer = key("", ALNUM, 40);
        let pem_body = key("", ALNUM, 64);
        let cases = [
            (
                format!("aws_secret_access_key = {aws}"),
                aws.clone(),
                "aws-secret-access-key",
            ),
            (
                format!("AZURE_OPENAI_KEY={azure}"),
                azure.clone(),
                "azure-openai-key",
            ),
            (
                format!("{{\"api_key\": \"{generic}\"}}"),
                generic.clone(),
                "generic-api-key",
            ),
            (
                format!("client_secret: '{generic}'"),
                generic.clone(),
                "generic-api-key",
            ),
            (
                format!("Authorization: Bearer {bearer}"),
                bearer.clone(),
                "bearer-token",
            ),
            (
                "postgres://app:s3cr3t-Pa55@db.internal:5432/prod".to_string(),
                "s3cr3t-Pa55".to_string(),
                "password-in-url",
            ),
            (
                format!(
                    "-----BEGIN RSA PRIVATE KEY-----\n{pem_body}\n-----END RSA PRIVATE KEY-----"
                ),
                format!(
                    "-----BEGIN RSA PRIVATE KEY-----\n{pem_body}\n-----END RSA PRIVATE KEY-----"
                ),
                "private-key",
            ),
        ];
        for (text, secret, rule) in &cases {
            let found = Secrets::new().find(text);
            assert_eq!(found.len(), 1, "{rule}: {text} -> {found:?}");
            assert_eq!(found[0].rule, *rule, "{text}");
            assert_eq!(
                &text[found[0].start..found[0].end],
                secret.as_str(),
                "{text}"
            );
        }
    }

    #[test]
    fn near_misses_and_ordinary_traffic_are_not_secrets() {
        for text in [
            // Low entropy behind a keyword.
            "password = aaaaaaaaaaaaaaaaaaaa",
            "token: my-token-goes-here-later",
            "api_key: YOUR_API_KEY_HERE_PLEASE",
            // Too short, wrong alphabet, or no keyword.
            "sk-short",
            "AKIA1234",
            "the secret is out",
            // A masked password and a URL without one.
            "https://alice:***@example.com/x",
            "https://api.openai.com/v1/chat/completions",
            // Ids, hashes and timestamps of real provider traffic.
            "chatcmpl-7a7db6b809f7cec43b01fc72",
            "msg_01XFDUDYJgAACzvnptvVoYEL",
            "req_mock_593ee395ffbd2bb78e84a50a",
            "\"created\": 1760029946, \"system_fingerprint\": \"fp_mock\"",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "max_tokens: 256, total_tokens: 34",
            "Bearer traceforge-replay",
        ] {
            assert!(rules_in(text).is_empty(), "{text}: {:?}", rules_in(text));
        }
    }

    #[test]
    fn the_real_cassettes_hold_no_secret() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let secrets = Secrets::new();
        let mut files = 0;
        for dir in ["fixtures/vcrpy/openllmetry", "fixtures/vcrpy/simonw-llm"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                let found: Vec<String> = secrets
                    .find(&text)
                    .iter()
                    .map(|f| format!("{} {}", f.rule, &text[f.start..f.end]))
                    .collect();
                assert!(found.is_empty(), "{}: {found:?}", path.display());
                files += 1;
            }
        }
        assert_eq!(files, 13);
    }

    #[test]
    fn overlapping_findings_keep_the_longest() {
        let anthropic = key("sk-ant-api03-", ALNUM, 93);
        // `sk-…` alone would also match the Anthropic key's tail; the Anthropic rule wins.
        assert_eq!(rules_in(&anthropic), ["anthropic-api-key"]);
        let two = format!("{} {}", key("ghp_", ALNUM, 36), key("AIza", ALNUM, 35));
        assert_eq!(rules_in(&two), ["github-token", "gcp-api-key"]);
    }

    #[test]
    fn entropy_separates_keys_from_words() {
        assert!(entropy("aaaaaaaaaaaaaaaa") < 0.1);
        assert!(entropy("passwordpassword") < 3.0);
        assert!(entropy(&key("", ALNUM, 40)) > 4.5);
        assert_eq!(Secrets::rule_ids().count(), RULES.len());
    }
    /// The keyword prefilter only skips searches that would find nothing: every rule's own
    /// test values, the same values with their keywords' case changed, and real recorded
    /// traffic give the same findings with and without it.
    #[test]
    fn the_keyword_prefilter_never_changes_what_is_found() {
        let secrets = Secrets::new();
        let mut texts: Vec<String> = vec![
            format!("api_key = \"{}\"", key("", ALNUM, 40)),
            format!("AWS_SECRET_ACCESS_KEY={}", key("", ALNUM, 40)),
            format!("Authorization: BEARER {}", key("", ALNUM, 40)),
            format!("AZURE_OPENAI_KEY: {}", key("", HEX, 32)),
            format!("postgres://admin:{}@db.internal:5432/x", key("", ALNUM, 12)),
            format!(
                "{} and {}",
                key("sk-ant-api03-", ALNUM, 90),
                key("sk-proj-", ALNUM, 60)
            ),
            format!(
                "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
                key("", ALNUM, 64)
            ),
            format!(
                "token: {} password={}",
                key("", ALNUM, 30),
                key("", ALNUM, 24)
            ),
        ];
        for dir in ["../shared/fixtures", "cassettes", "fixtures"] {
            let mut stack = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir)];
            while let Some(path) = stack.pop() {
                if path.is_dir() {
                    stack.extend(
                        std::fs::read_dir(&path)
                            .into_iter()
                            .flatten()
                            .flatten()
                            .map(|e| e.path()),
                    );
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    texts.push(text);
                }
            }
        }
        assert!(
            texts.len() > 20,
            "too little text to compare: {}",
            texts.len()
        );
        let mut found = 0;
        for text in &texts {
            let filtered = secrets.find(text);
            assert_eq!(filtered, secrets.find_with(text, [true; RULES.len()]));
            found += filtered.len();
        }
        assert!(found > 8, "the comparison found only {found} secrets");
    }
}
