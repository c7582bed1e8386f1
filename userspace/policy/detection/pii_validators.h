#pragma once
// Validators that turn a pattern match into a finding only when the value is real-shaped:
// checksums, registries of lengths and ranges, context. Pure functions on the candidate.

#include <string_view>

namespace llmtap::policy {

// Payment card number (digits, spaces or dashes allowed): 12-19 digits, Luhn checksum, and a
// known issuer range (Visa, Mastercard incl. 2-series, Amex, Discover, JCB, Diners, UnionPay,
// Maestro).
bool valid_payment_card(std::string_view candidate);
bool luhn_valid(std::string_view digits);  // digits only

// IBAN (spaces allowed): known country, that country's length, mod-97 == 1.
bool valid_iban(std::string_view candidate);

// US SSN "AAA-GG-SSSS" (dashes or spaces optional): area not 000, 666 or 900-999; group not
// 00; serial not 0000.
bool valid_us_ssn(std::string_view candidate);

// E-mail address: local part and a dotted domain with a 2+ letter top-level label.
bool valid_email(std::string_view candidate);

// Phone number: 7-15 digits once separators and a leading + are removed, and `context` (the
// text around it) holds a phone word ("phone", "tel", "mobile", "call", ...).
bool valid_phone(std::string_view candidate, std::string_view context);

// IPv4 or IPv6 address that parses and is not loopback, unspecified, link-local, private
// (RFC 1918, ULA) or documentation (RFC 5737, 3849).
bool valid_public_ip(std::string_view candidate);

}  // namespace llmtap::policy
