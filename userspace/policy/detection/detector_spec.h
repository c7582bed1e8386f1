#pragma once
// One detector of sensitive content: what it looks for and how a candidate match is
// confirmed. Built-in detectors (policies/detectors/*.yaml), a policy's custom patterns and
// gitleaks rule files all become DetectorSpecs, compiled together into one ContentScanner.

#include <string>
#include <vector>

#include "policy/severity.h"

namespace llmtap::policy {

enum class DetectorCategory {
  kSecret,        // credentials, keys, tokens
  kPersonalData,  // cards, IBANs, SSNs, e-mail addresses, phone numbers, IP addresses
  kCustom,        // a policy's own patterns and keyword lists
  kBulk,          // long base64 blobs and the like
  kPromptAttack,  // indicators of prompt injection and jailbreak attempts
};

// A check beyond the pattern, run on the candidate secret.
enum class Validator {
  kNone,
  kLuhn,       // payment card: Luhn checksum and a known issuer range
  kIban,       // IBAN: country length and mod-97
  kUsSsn,      // US SSN: no 000/666/9xx area, no 00 group, no 0000 serial
  kEmail,      // plausible address with a dotted domain
  kPhone,      // 7-15 digits (E.164) and a context word nearby
  kIpAddress,  // IPv4/IPv6 that parses; loopback, private and documentation ranges kept out
};

struct DetectorSpec {
  std::string id;  // unique, lowercase with dashes: "aws-access-key-id"
  std::string description;
  DetectorCategory category = DetectorCategory::kSecret;
  // RE2 syntax, also compiled by Hyperscan as a prefilter (a pattern Hyperscan refuses is
  // scanned by RE2 alone and reported by `policy validate`).
  std::string pattern;
  int secret_group = 0;    // capture group holding the secret; 0: the whole match
  double min_entropy = 0;  // Shannon entropy (bits per byte) the secret must reach
  size_t min_length = 0;   // bytes the secret must have (long runs: cheaper than {4096,})
  // Case-insensitive literals; when given, one of them must occur in the match (gitleaks'
  // `keywords`).
  std::vector<std::string> keywords;
  // Byte strings every match contains (exact case), for a pattern in which RE2 finds no
  // literal to prefilter on: the e-mail's "@". Only windows around them are read.
  std::vector<std::string> anchors;
  std::vector<std::string> stopwords;       // a secret containing one of these is dropped
  std::vector<std::string> allow_patterns;  // a secret matching one of these is dropped
  Validator validator = Validator::kNone;
  Severity severity = Severity::kHigh;
  Confidence confidence = Confidence::kHigh;
  std::string source;  // "builtin", or the file it came from
  int line = 0;        // where in `source` it is defined (for errors)
};

}  // namespace llmtap::policy
