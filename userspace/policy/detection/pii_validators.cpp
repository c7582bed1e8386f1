#include "policy/detection/pii_validators.h"

#include <arpa/inet.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace llmtap::policy {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_alpha(char c) { return is_upper(c) || is_lower(c); }
bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

bool all_same_char(std::string_view text) {
  for (char c : text) {
    if (c != text.front()) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

bool iends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && iequals(text.substr(text.size() - suffix.size()), suffix);
}

// The first `count` digits of an all-digit string as a number; callers keep count <= 9.
uint32_t leading_number(std::string_view digits, std::size_t count) {
  uint32_t value = 0;
  for (std::size_t i = 0; i < count; ++i)
    value = value * 10 + static_cast<uint32_t>(digits[i] - '0');
  return value;
}

// --- Payment cards -------------------------------------------------------------------------

constexpr uint32_t length_bit(int length) { return 1u << length; }
constexpr uint32_t length_range(int min_length, int max_length) {
  uint32_t bits = 0;
  for (int length = min_length; length <= max_length; ++length) bits |= length_bit(length);
  return bits;
}

// One issuer prefix range: the first `prefix_digits` digits fall in [low, high] and the card
// number length is one of the bits in `lengths`.
struct IssuerRange {
  uint32_t low;
  uint32_t high;
  uint8_t prefix_digits;
  uint32_t lengths;
};

constexpr uint32_t kVisaLengths = length_bit(13) | length_bit(16) | length_bit(19);
constexpr uint32_t kSixteenToNineteen = length_range(16, 19);

constexpr std::array<IssuerRange, 21> kIssuerRanges = {{
    {4, 4, 1, kVisaLengths},                  // Visa
    {51, 55, 2, length_bit(16)},              // Mastercard
    {2221, 2720, 4, length_bit(16)},          // Mastercard 2-series
    {34, 34, 2, length_bit(15)},              // American Express
    {37, 37, 2, length_bit(15)},              // American Express
    {6011, 6011, 4, kSixteenToNineteen},      // Discover
    {644, 649, 3, kSixteenToNineteen},        // Discover
    {65, 65, 2, kSixteenToNineteen},          // Discover
    {622126, 622925, 6, kSixteenToNineteen},  // Discover (co-branded UnionPay)
    {3528, 3589, 4, kSixteenToNineteen},      // JCB
    {300, 305, 3, length_range(14, 19)},      // Diners Club
    {36, 36, 2, length_range(14, 19)},        // Diners Club
    {38, 39, 2, length_range(14, 19)},        // Diners Club
    {62, 62, 2, kSixteenToNineteen},          // UnionPay
    {5018, 5018, 4, length_range(12, 19)},    // Maestro
    {5020, 5020, 4, length_range(12, 19)},    // Maestro
    {5038, 5038, 4, length_range(12, 19)},    // Maestro
    {5893, 5893, 4, length_range(12, 19)},    // Maestro
    {6304, 6304, 4, length_range(12, 19)},    // Maestro
    {6759, 6759, 4, length_range(12, 19)},    // Maestro
    {6761, 6763, 4, length_range(12, 19)},    // Maestro
}};

bool has_known_issuer(std::string_view digits) {
  for (const IssuerRange& range : kIssuerRanges) {
    if ((range.lengths & length_bit(static_cast<int>(digits.size()))) == 0) continue;
    const uint32_t prefix = leading_number(digits, range.prefix_digits);
    if (prefix >= range.low && prefix <= range.high) return true;
  }
  return false;
}

// --- IBAN ----------------------------------------------------------------------------------

struct IbanCountry {
  char code[3];
  uint8_t length;
};

// Every country in the SWIFT IBAN registry with its total IBAN length. Territories that use
// another country's IBAN (e.g. Åland → FI, Jersey → GB, Réunion → FR) carry that country's code.
constexpr std::array<IbanCountry, 89> kIbanCountries = {{
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"GT", 28}, {"HN", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26},
    {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20},
    {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20},
    {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24},
    {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24},
    {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25},
    {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
    {"YE", 30},
}};

constexpr std::size_t kMaxIbanLength = 34;

int iban_length_for(std::string_view country) {
  for (const IbanCountry& entry : kIbanCountries) {
    if (country == std::string_view(entry.code, 2)) return entry.length;
  }
  return 0;
}

// Remainder mod 97 of the IBAN read as a number, with the first four characters moved to the
// end and letters expanded to 10..35. Folded in one character at a time, so no bignum.
uint32_t iban_mod97(std::string_view iban) {
  uint32_t remainder = 0;
  for (std::size_t i = 0; i < iban.size(); ++i) {
    const char c = iban[(i + 4) % iban.size()];
    if (is_digit(c)) {
      remainder = (remainder * 10 + static_cast<uint32_t>(c - '0')) % 97;
    } else {
      remainder = (remainder * 100 + static_cast<uint32_t>(c - 'A' + 10)) % 97;
    }
  }
  return remainder;
}

// --- SSN -----------------------------------------------------------------------------------

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// --- E-mail --------------------------------------------------------------------------------

bool valid_email_local_part(std::string_view local) {
  if (local.empty() || local.size() > 64) return false;
  if (local.front() == '.' || local.back() == '.') return false;
  char previous = '\0';
  for (char c : local) {
    const bool allowed = is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
    if (!allowed) return false;
    if (c == '.' && previous == '.') return false;
    previous = c;
  }
  return true;
}

bool valid_domain_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!is_alnum(c) && c != '-') return false;
  }
  return true;
}

// RFC 2606 / 6761 names: placeholders in docs and prompts, never someone's real address.
bool is_reserved_example_domain(std::string_view domain) {
  constexpr std::array<std::string_view, 3> kExampleDomains = {"example.com", "example.org",
                                                               "example.net"};
  for (std::string_view example : kExampleDomains) {
    if (iequals(domain, example)) return true;
    if (domain.size() > example.size() && iends_with(domain, example) &&
        domain[domain.size() - example.size() - 1] == '.') {
      return true;
    }
  }
  constexpr std::array<std::string_view, 4> kReservedTlds = {".example", ".test", ".invalid",
                                                             ".localhost"};
  for (std::string_view tld : kReservedTlds) {
    if (iends_with(domain, tld)) return true;
  }
  return false;
}

bool valid_email_domain(std::string_view domain) {
  if (domain.empty()) return false;
  std::size_t labels = 0;
  std::string_view rest = domain;
  std::string_view last_label;
  while (true) {
    const std::size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (!valid_domain_label(label)) return false;
    ++labels;
    last_label = label;
    if (dot == std::string_view::npos) break;
    rest = rest.substr(dot + 1);
  }
  if (labels < 2 || last_label.size() < 2) return false;
  for (char c : last_label) {
    if (!is_alpha(c)) return false;
  }
  return !is_reserved_example_domain(domain);
}

// --- Phone ---------------------------------------------------------------------------------

// Where in the context a phone word may sit. Most count only where a word starts (start of
// text, after a non-letter, or at a camelCase hump) so "string" does not hold "ring" nor "hotel"
// "tel", but may run on ("calling", "Tel:"). "phone" counts anywhere ("smartphone", "iPhone");
// the phrase "text me" must also end a word, or every "text message" would qualify.
enum class WordMatch { kAnywhere, kWordStart, kWholeWord };

struct PhoneWord {
  std::string_view text;
  WordMatch match;
};

constexpr std::array<PhoneWord, 12> kPhoneWords = {{
    {"phone", WordMatch::kAnywhere},
    {"tel", WordMatch::kWordStart},
    {"telephone", WordMatch::kWordStart},
    {"mobile", WordMatch::kWordStart},
    {"cell", WordMatch::kWordStart},
    {"call", WordMatch::kWordStart},
    {"fax", WordMatch::kWordStart},
    {"whatsapp", WordMatch::kWordStart},
    {"contact", WordMatch::kWordStart},
    {"sms", WordMatch::kWordStart},
    {"text me", WordMatch::kWholeWord},
    {"ring", WordMatch::kWordStart},
}};

bool starts_word(std::string_view text, std::size_t pos) {
  if (pos == 0) return true;
  const char before = text[pos - 1];
  return !is_alpha(before) || (is_lower(before) && is_upper(text[pos]));
}

bool ends_word(std::string_view text, std::size_t end) {
  return end == text.size() || !is_alpha(text[end]);
}

bool contains_phone_word(std::string_view context) {
  for (std::size_t pos = 0; pos < context.size(); ++pos) {
    for (const PhoneWord& word : kPhoneWords) {
      const std::size_t length = word.text.size();
      if (context.size() - pos < length) continue;
      if (!iequals(context.substr(pos, length), word.text)) continue;
      if (word.match == WordMatch::kAnywhere) return true;
      if (!starts_word(context, pos)) continue;
      if (word.match == WordMatch::kWordStart || ends_word(context, pos + length)) return true;
    }
  }
  return false;
}

// --- IP ------------------------------------------------------------------------------------

// A dotted quad with no octet written with a leading zero ("010" may be read as octal).
bool has_leading_zero_octet(std::string_view text) {
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    const bool octet_start = i == 0 || text[i - 1] == '.';
    if (octet_start && text[i] == '0' && is_digit(text[i + 1])) return true;
  }
  return false;
}

bool in_v4_prefix(const uint8_t* addr, uint8_t a, uint8_t b, uint8_t c, int prefix_bits) {
  const uint32_t value = (uint32_t{addr[0]} << 24) | (uint32_t{addr[1]} << 16) |
                         (uint32_t{addr[2]} << 8) | uint32_t{addr[3]};
  const uint32_t network = (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8);
  const uint32_t mask = prefix_bits == 0 ? 0 : ~uint32_t{0} << (32 - prefix_bits);
  return (value & mask) == (network & mask);
}

bool is_public_v4(const uint8_t* addr) {
  struct V4Block {
    uint8_t a, b, c;
    int prefix_bits;
  };
  // Non-routable or special-use blocks: "this network", RFC 1918, loopback, link-local, CGNAT
  // (RFC 6598), IETF protocol assignments, documentation (RFC 5737), benchmarking (RFC 2544).
  constexpr std::array<V4Block, 13> kNonPublic = {{
      {0, 0, 0, 8},
      {10, 0, 0, 8},
      {100, 64, 0, 10},
      {127, 0, 0, 8},
      {169, 254, 0, 16},
      {172, 16, 0, 12},
      {192, 0, 0, 24},
      {192, 0, 2, 24},
      {192, 168, 0, 16},
      {198, 18, 0, 15},
      {198, 51, 100, 24},
      {203, 0, 113, 24},
      {224, 0, 0, 3},  // 224.0.0.0/4 multicast, 240/4 reserved and 255.255.255.255 broadcast
  }};
  for (const V4Block& block : kNonPublic) {
    if (in_v4_prefix(addr, block.a, block.b, block.c, block.prefix_bits)) return false;
  }
  return true;
}

bool is_public_v6(const uint8_t* addr) {
  constexpr uint8_t kZeros[16] = {};
  const bool first_15_zero = std::memcmp(addr, kZeros, 15) == 0;
  if (first_15_zero && (addr[15] == 0 || addr[15] == 1)) return false;  // :: and ::1
  if (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80) return false;        // fe80::/10 link-local
  if ((addr[0] & 0xfe) == 0xfc) return false;                           // fc00::/7 ULA
  if (addr[0] == 0xff) return false;                                    // ff00::/8 multicast
  if (addr[0] == 0x20 && addr[1] == 0x01 && addr[2] == 0x0d && addr[3] == 0xb8) {
    return false;  // 2001:db8::/32 documentation
  }
  // ::ffff:a.b.c.d carries an IPv4 address; it is as public as that address.
  const bool v4_mapped = std::memcmp(addr, kZeros, 10) == 0 && addr[10] == 0xff && addr[11] == 0xff;
  if (v4_mapped) return is_public_v4(addr + 12);
  return true;
}

}  // namespace

bool luhn_valid(std::string_view digits) {
  if (!all_digits(digits)) return false;
  uint32_t sum = 0;
  bool double_it = false;
  for (std::size_t i = digits.size(); i-- > 0;) {
    uint32_t digit = static_cast<uint32_t>(digits[i] - '0');
    if (double_it) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double_it = !double_it;
  }
  return sum % 10 == 0;
}

bool valid_payment_card(std::string_view candidate) {
  char digits[19];
  std::size_t count = 0;
  for (char c : candidate) {
    if (c == ' ' || c == '-') continue;
    if (!is_digit(c) || count == sizeof(digits)) return false;
    digits[count++] = c;
  }
  if (count < 12) return false;
  const std::string_view number(digits, count);
  if (all_same_char(number)) return false;
  return luhn_valid(number) && has_known_issuer(number);
}

bool valid_iban(std::string_view candidate) {
  char compact[kMaxIbanLength];
  std::size_t count = 0;
  for (char c : candidate) {
    if (c == ' ') continue;
    // Upper case only: lower-case runs are far more often words or identifiers than IBANs.
    if (!is_digit(c) && !is_upper(c)) return false;
    if (count == sizeof(compact)) return false;
    compact[count++] = c;
  }
  if (count < 5) return false;
  const std::string_view iban(compact, count);
  if (!is_upper(iban[0]) || !is_upper(iban[1]) || !is_digit(iban[2]) || !is_digit(iban[3])) {
    return false;
  }
  if (iban_length_for(iban.substr(0, 2)) != static_cast<int>(count)) return false;
  // ISO 13616 check digits run 02..98; 00, 01 and 99 never come out of the algorithm.
  const int check = (iban[2] - '0') * 10 + (iban[3] - '0');
  if (check < 2 || check > 98) return false;
  return iban_mod97(iban) == 1;
}

bool valid_us_ssn(std::string_view candidate) {
  std::string_view area;
  std::string_view group;
  std::string_view serial;
  if (candidate.size() == 9) {
    area = candidate.substr(0, 3);
    group = candidate.substr(3, 2);
    serial = candidate.substr(5, 4);
  } else if (candidate.size() == 11) {
    const char separator = candidate[3];
    if ((separator != '-' && separator != ' ') || candidate[6] != separator) return false;
    area = candidate.substr(0, 3);
    group = candidate.substr(4, 2);
    serial = candidate.substr(7, 4);
  } else {
    return false;
  }
  if (!all_digits(area) || !all_digits(group) || !all_digits(serial)) return false;
  if (area == "000" || area == "666" || area[0] == '9') return false;
  if (group == "00" || serial == "0000") return false;
  // Numbers printed on sample cards and in ads; seen everywhere, belonging to no one now.
  if (area == "078" && group == "05" && serial == "1120") return false;
  if (area == "219" && group == "09" && serial == "9999") return false;
  return true;
}

bool valid_email(std::string_view candidate) {
  if (candidate.empty() || candidate.size() > 254) return false;
  const std::size_t at = candidate.find('@');
  if (at == std::string_view::npos || candidate.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  return valid_email_local_part(candidate.substr(0, at)) &&
         valid_email_domain(candidate.substr(at + 1));
}

bool valid_phone(std::string_view candidate, std::string_view context) {
  char digits[15];
  std::size_t count = 0;
  for (std::size_t i = 0; i < candidate.size(); ++i) {
    const char c = candidate[i];
    if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') continue;
    if (c == '+' && i == 0) continue;
    if (!is_digit(c) || count == sizeof(digits)) return false;
    digits[count++] = c;
  }
  if (count < 7) return false;
  if (all_same_char(std::string_view(digits, count))) return false;
  return contains_phone_word(context);
}

bool valid_public_ip(std::string_view candidate) {
  // inet_pton wants a NUL-terminated string; the longest textual IPv6 form fits in 45 chars.
  char text[INET6_ADDRSTRLEN];
  if (candidate.empty() || candidate.size() >= sizeof(text)) return false;
  std::memcpy(text, candidate.data(), candidate.size());
  text[candidate.size()] = '\0';
  if (std::memchr(text, '\0', candidate.size()) != nullptr) return false;

  uint8_t addr[16];
  if (candidate.find(':') == std::string_view::npos) {
    if (has_leading_zero_octet(candidate)) return false;
    if (inet_pton(AF_INET, text, addr) != 1) return false;
    return is_public_v4(addr);
  }
  if (inet_pton(AF_INET6, text, addr) != 1) return false;
  return is_public_v6(addr);
}

}  // namespace llmtap::policy
