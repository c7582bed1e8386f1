#include "policy/detection/pii_validators.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmtap::policy {
namespace {

using Cases = std::vector<std::string>;
using PhoneCases = std::vector<std::pair<std::string, std::string>>;

// --- luhn_valid ----------------------------------------------------------------------------

TEST(LuhnValid, AcceptsNumbersWithAGoodCheckDigit) {
  for (const std::string& digits :
       Cases{"79927398713", "0", "00", "18", "59", "4111111111111111", "0000000000000000",
             "378282246310005", "6011111111111117", "1000000000000008"}) {
    EXPECT_TRUE(luhn_valid(digits)) << digits;
  }
}

TEST(LuhnValid, RejectsBadCheckDigitsAndNonDigits) {
  for (const std::string& digits :
       Cases{"", "79927398710", "79927398714", "1", "4111111111111112", "4111 1111 1111 1111",
             "4111-1111-1111-1111", "abc", "12a4", "-18", "+18", "18 ", "\xd9\xa1\xd9\xa8"}) {
    EXPECT_FALSE(luhn_valid(digits)) << digits;
  }
}

// --- valid_payment_card --------------------------------------------------------------------

TEST(ValidPaymentCard, AcceptsWellKnownTestNumbers) {
  for (const std::string& card : Cases{
           "4111 1111 1111 1111",  // Visa
           "4111-1111-1111-1111",  // Visa, dashes
           "4012888888881881",     // Visa
           "4222222222222",        // Visa, 13 digits
           "4111111111111111110",  // Visa, 19 digits
           "5555 5555 5555 4444",  // Mastercard
           "5105105105105100",     // Mastercard
           "2223003122003222",     // Mastercard 2-series
           "378282246310005",      // Amex
           "3714 496353 98431",    // Amex, grouped 4-6-5
           "6011111111111117",     // Discover
           "6011000990139424",     // Discover
           "3530111333300000",     // JCB
           "3566002020360505",     // JCB
           "30569309025904",       // Diners Club, 14 digits
           "38520000023237",       // Diners Club 38
           "36148900647913",       // Diners Club 36
           "6200000000000005",     // UnionPay
           "6759649826438453",     // Maestro
       }) {
    EXPECT_TRUE(valid_payment_card(card)) << card;
  }
}

TEST(ValidPaymentCard, AcceptsRangeAndLengthBoundaries) {
  for (const std::string& card : Cases{
           "2221000000000009",     // Mastercard 2-series low end
           "2720000000000005",     // Mastercard 2-series high end
           "6221260000000000",     // Discover co-branded low end
           "622925000000000003",   // Discover co-branded high end, 18 digits
           "650000000000000002",   // Discover 65, 18 digits
           "644000000000000005",   // Discover 644, 18 digits
           "3528000000000007",     // JCB low end
           "3589000000000000009",  // JCB high end, 19 digits
           "30500000000003",       // Diners 305
           "501800000009",         // Maestro, 12 digits (shortest card)
           "630400000000",         // Maestro 6304, 12 digits
           "5020000000000000003",  // Maestro, 19 digits
           "5038000000000005",     // Maestro 5038
           "589300000009",         // Maestro 5893
       }) {
    EXPECT_TRUE(valid_payment_card(card)) << card;
  }
}

TEST(ValidPaymentCard, RejectsSingleDigitChangesOfTestNumbers) {
  for (const std::string& card :
       Cases{"4111 1111 1111 1112", "5555 5555 5555 4445", "378282246310006", "6011111111111118",
             "3530111333300001", "2223003122003223", "4012888888881882", "30569309025905"}) {
    EXPECT_FALSE(valid_payment_card(card)) << card;
  }
}

TEST(ValidPaymentCard, RejectsUnknownIssuersAndWrongLengths) {
  for (const std::string& card : Cases{
           "1000000000000008",   // no issuer starts with 1
           "9000000000000001",   // nor 9
           "7000000000000005",   // nor 7
           "5600000000000003",   // 56 is neither Mastercard nor Maestro
           "5000000000000009",   // 50 alone is not a Maestro range
           "2220000000000000",   // just below Mastercard 2-series
           "2721000000000004",   // just above Mastercard 2-series
           "3527000000000008",   // just below JCB
           "3590000000000000",   // just above JCB
           "30600000000001",     // Diners 306 is not issued
           "411111111111116",    // Visa, 15 digits
           "40000000000002",     // Visa, 14 digits
           "3400000000000000",   // Amex, 16 digits
           "37000000000007",     // Amex, 14 digits
           "510000000000003",    // Mastercard, 15 digits
           "55000000000000004",  // Mastercard, 17 digits
           "601100000000001",    // Discover, 15 digits
           "644000000000002",    // Discover, 15 digits
       }) {
    EXPECT_FALSE(valid_payment_card(card)) << card;
  }
}

TEST(ValidPaymentCard, RejectsBadLengthsAndCharacters) {
  for (const std::string& card : Cases{
           "",
           "41111111111",           // 11 digits
           "40000000000000000002",  // 20 digits, Luhn-valid
           "50180000000000000009",  // 20-digit Maestro
           "4111.1111.1111.1111",   // dots are not card separators
           "4111/1111/1111/1111",
           "4111 1111 1111 111a",
           "4111\t1111\t1111\t1111",
           "+4111111111111111",
           "    ",
           "----------------",
       }) {
    EXPECT_FALSE(valid_payment_card(card)) << card;
  }
}

TEST(ValidPaymentCard, RejectsAllSameDigitNumbers) {
  // 0000... passes Luhn, so the same-digit rule (and the issuer check) must stop it.
  ASSERT_TRUE(luhn_valid("0000000000000000"));
  for (const std::string& card :
       Cases{"0000000000000000", "0000 0000 0000 0000", "4444444444444444", "4444444444444",
             "5555555555555555", "000000000000", "0000000000000000000"}) {
    EXPECT_FALSE(valid_payment_card(card)) << card;
  }
  EXPECT_TRUE(valid_payment_card("4444444444444448")) << "mostly one digit is still a number";
}

// --- valid_iban ----------------------------------------------------------------------------

TEST(ValidIban, AcceptsRegistryExamples) {
  for (const std::string& iban : Cases{
           "GB82 WEST 1234 5698 7654 32",
           "GB82WEST12345698765432",
           "DE89 3704 0044 0532 0130 00",
           "FR14 2004 1010 0505 0001 3M02 606",
           "NL91 ABNA 0417 1643 00",
           "ES91 2100 0418 4502 0005 1332",
           "IT60 X054 2811 1010 0000 0123 456",
           "CH93 0076 2011 6238 5295 7",
           "BE68 5390 0754 7034",
           "AT61 1904 3002 3457 3201",
           "PL61 1090 1014 0000 0712 1981 2874",
           "SE45 5000 0000 0583 9825 7466",
           "NO93 8601 1117 947",
           "DK50 0040 0440 1162 43",
           "FI21 1234 5600 0007 85",
           "IE29 AIBK 9311 5212 3456 78",
           "PT50 0002 0123 1234 5678 9015 4",
           "LU28 0019 4006 4475 0000",
           "SA03 8000 0000 6080 1016 7519",
           "MT84 MALT 0110 0001 2345 MTLC AST0 01S",   // 31 characters
           "LC55 HEMM 0001 0001 0012 0012 0002 3015",  // 32 characters
           "  DE89 3704 0044 0532 0130 00  ",
       }) {
    EXPECT_TRUE(valid_iban(iban)) << iban;
  }
}

TEST(ValidIban, RejectsSingleCharacterChanges) {
  for (const std::string& iban :
       Cases{"GB82 WEST 1234 5698 7654 31", "GB83 WEST 1234 5698 7654 32",
             "GB82 WESU 1234 5698 7654 32", "DE89 3704 0044 0532 0130 01",
             "DE88 3704 0044 0532 0130 00", "NL91 ABNA 0417 1643 01", "BE68 5390 0754 7035",
             "NO93 8601 1117 948", "FR14 2004 1010 0505 0001 3M02 607"}) {
    EXPECT_FALSE(valid_iban(iban)) << iban;
  }
}

TEST(ValidIban, RejectsWrongCountryOrLength) {
  for (const std::string& iban : Cases{
           "XX82 WEST 1234 5698 7654 32",   // no such country
           "US82 WEST 1234 5698 7654 32",   // the US does not use IBAN
           "DE89 3704 0044 0532 0130 0",    // DE is 22, not 21
           "DE89 3704 0044 0532 0130 000",  // nor 23
           "GB82 WEST 1234 5698 7654",      // truncated
           "NL91ABNA041716430",             // NL is 18
           "GB82", "GB", "",
           "GB82WEST12345698765432GB82WEST123",  // longer than any IBAN
       }) {
    EXPECT_FALSE(valid_iban(iban)) << iban;
  }
}

TEST(ValidIban, RejectsLowerCaseAndOtherCharacters) {
  for (const std::string& iban : Cases{
           "gb82 west 1234 5698 7654 32", "gb82WEST12345698765432", "GB82 west 1234 5698 7654 32",
           "GB82-WEST-1234-5698-7654-32", "GB82\tWEST12345698765432", "GB82WEST1234569876543.2",
           "GBX2WEST12345698765432",  // check digits must be digits
           "1282WEST12345698765432",  // country must be letters
       }) {
    EXPECT_FALSE(valid_iban(iban)) << iban;
  }
}

TEST(ValidIban, RejectsCheckDigitsOutside02To98) {
  // 98 and 01 (and 97 and 00) leave the same remainder; only 02..98 are ever issued.
  EXPECT_TRUE(valid_iban("DE98100000000000000010"));
  EXPECT_FALSE(valid_iban("DE01100000000000000010"));
  EXPECT_TRUE(valid_iban("DE97100000000000000028"));
  EXPECT_FALSE(valid_iban("DE00100000000000000028"));
  EXPECT_FALSE(valid_iban("DE99100000000000000028"));
}

// --- valid_us_ssn --------------------------------------------------------------------------

TEST(ValidUsSsn, AcceptsTheThreeFormats) {
  for (const std::string& ssn :
       Cases{"123-45-6789", "123 45 6789", "123456789", "001-01-0001", "665-12-3456", "667-12-3456",
             "899-99-9999", "772-10-0001", "078-05-1121", "219-09-9998", "078-06-1120"}) {
    EXPECT_TRUE(valid_us_ssn(ssn)) << ssn;
  }
}

TEST(ValidUsSsn, RejectsNeverIssuedBlocks) {
  for (const std::string& ssn :
       Cases{"000-12-3456", "666-12-3456", "900-12-3456", "999-99-9999", "950 12 3456",
             "123-00-4567", "123-45-0000", "000000000", "666123456", "123450000"}) {
    EXPECT_FALSE(valid_us_ssn(ssn)) << ssn;
  }
}

TEST(ValidUsSsn, RejectsAdvertisingNumbers) {
  for (const std::string& ssn : Cases{"078-05-1120", "078 05 1120", "078051120", "219-09-9999",
                                      "219 09 9999", "219099999"}) {
    EXPECT_FALSE(valid_us_ssn(ssn)) << ssn;
  }
}

TEST(ValidUsSsn, RejectsOtherShapes) {
  for (const std::string& ssn :
       Cases{"", "123-45 6789", "123 45-6789", "12-345-6789", "123-456-789", "123-45-678",
             "1234567890", "12345678", "abc-de-fghi", "123_45_6789", " 123-45-6789", "123-45-6789 ",
             "123--45-6789", "12a-45-6789"}) {
    EXPECT_FALSE(valid_us_ssn(ssn)) << ssn;
  }
}

// --- valid_email ---------------------------------------------------------------------------

TEST(ValidEmail, AcceptsOrdinaryAddresses) {
  for (const std::string& email : Cases{
           "alice@gmail.com", "john.doe@company.co.uk", "first_last+tag@sub.domain.org", "a@b.io",
           "x%y@mail-server.de", "UPPER.Case@Mail.Example.co", "user-name@xn--bcher-kva.ch",
           "a@notexample.com", "bob@example.community", "1234@numbers4u.net", "test@testing.io"}) {
    EXPECT_TRUE(valid_email(email)) << email;
  }
}

TEST(ValidEmail, AcceptsLengthLimits) {
  const std::string local64(64, 'a');
  EXPECT_TRUE(valid_email(local64 + "@gmail.com"));
  // 64 + 1 + 189 = 254 characters total.
  const std::string domain189 =
      std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(57, 'd') + ".com";
  ASSERT_EQ(domain189.size(), 189u);
  EXPECT_TRUE(valid_email(local64 + "@" + domain189));
}

TEST(ValidEmail, RejectsBadLocalParts) {
  for (const std::string& email :
       Cases{"@gmail.com", ".alice@gmail.com", "alice.@gmail.com", "al..ice@gmail.com",
             "alice smith@gmail.com", "alice(x)@gmail.com", "o'brien@gmail.com",
             "\"alice\"@gmail.com", "alice!@gmail.com"}) {
    EXPECT_FALSE(valid_email(email)) << email;
  }
  EXPECT_FALSE(valid_email(std::string(65, 'a') + "@gmail.com")) << "65-char local part";
}

TEST(ValidEmail, RejectsBadDomains) {
  for (const std::string& email :
       Cases{"alice", "alice@", "alice@gmail", "alice@localhost", "alice@gmail.c",
             "alice@gmail.c0m", "alice@123.456", "alice@-gmail.com", "alice@gmail-.com",
             "alice@gmail..com", "alice@.gmail.com", "alice@gmail.com.", "a@b@c.com",
             "alice@gmail_x.com", "alice@gm ail.com", "alice@[192.168.0.1]"}) {
    EXPECT_FALSE(valid_email(email)) << email;
  }
  EXPECT_FALSE(valid_email("alice@" + std::string(64, 'b') + ".com")) << "64-char label";
}

TEST(ValidEmail, RejectsOverlongAddresses) {
  const std::string local64(64, 'a');
  const std::string domain190 =
      std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(58, 'd') + ".com";
  ASSERT_EQ(domain190.size(), 190u);
  EXPECT_FALSE(valid_email(local64 + "@" + domain190)) << "255 characters";
}

TEST(ValidEmail, RejectsPlaceholderDomains) {
  for (const std::string& email :
       Cases{"user@example.com", "user@example.org", "user@example.net", "bob@EXAMPLE.NET",
             "user@mail.example.org", "a@foo.example", "a@foo.test", "a@foo.invalid",
             "a@my.localhost", "jane@Site.TEST"}) {
    EXPECT_FALSE(valid_email(email)) << email;
  }
}

// --- valid_phone ---------------------------------------------------------------------------

TEST(ValidPhone, AcceptsNumbersNearAPhoneWord) {
  for (const auto& [number, context] : PhoneCases{
           {"+1 (415) 555-2671", "call me at"},
           {"020 7946 0958", "Tel: "},
           {"+44 20 7946 0958", "Mobile"},
           {"415.555.2671", "my phone number is"},
           {"5552671", "ring me on"},
           {"+491701234567", "WhatsApp"},
           {"(030) 1234567", "FAX"},
           {"+861012345678", "send an SMS to"},
           {"+123456789012345", "contact"},
           {"4155552671", "or TEXT ME at"},
           {"4155552671", "text me"},
           {"4155552671", "cell:"},
           {"4155552671", "Telephone"},
           {"4155552671", "reach my smartphone"},
           {"4155552671", "user_tel="},
           {"4155552671", "\"homePhone\":"},
           {"4155552671", "\"workCell\":"},
           {"4155552671", "calling"},
       }) {
    EXPECT_TRUE(valid_phone(number, context)) << number << " / " << context;
  }
}

TEST(ValidPhone, RejectsWrongDigitCounts) {
  for (const std::string& number :
       Cases{"", "123456", "+1 23 45 6", "1234567890123456", "+1234567890123456", "()- .", "+"}) {
    EXPECT_FALSE(valid_phone(number, "phone")) << number;
  }
  EXPECT_TRUE(valid_phone("1234567", "phone")) << "7 digits";
  EXPECT_TRUE(valid_phone("123456789012345", "phone")) << "15 digits";
}

TEST(ValidPhone, RejectsAllSameDigits) {
  for (const std::string& number :
       Cases{"555 555 5555", "0000000", "+1 111 111 1111", "999-9999", "(000) 000-0000"}) {
    EXPECT_FALSE(valid_phone(number, "phone")) << number;
  }
}

TEST(ValidPhone, RejectsOtherCharacters) {
  for (const std::string& number :
       Cases{"415-555-CALL", "415+5552671", "++14155552671", "415/555/2671", "415_555_2671",
             "4155552671x12", "+1\t4155552671", " +14155552671"}) {
    EXPECT_FALSE(valid_phone(number, "phone")) << number;
  }
}

TEST(ValidPhone, RejectsNumbersWithoutAPhoneWord) {
  for (const auto& [number, context] : PhoneCases{
           {"4155552671", ""},
           {"4155552671", "order id"},
           {"4155552671", "invoice number"},
           {"4155552671", "std::string length"},  // "ring" inside a word
           {"4155552671", "hotel booking ref"},   // "tel" inside a word
           {"4155552671", "recall score"},        // "call" inside a word
           {"4155552671", "excellent"},           // "cell" inside a word
           {"4155552671", "timestamp"},
           {"4155552671", "text message"},  // "text me" needs the word "me"
           {"4155552671", "context menu"},  // "text me" must start a word
       }) {
    EXPECT_FALSE(valid_phone(number, context)) << number << " / " << context;
  }
}

// --- valid_public_ip -----------------------------------------------------------------------

TEST(ValidPublicIp, AcceptsPublicV4) {
  for (const std::string& ip :
       Cases{"8.8.8.8", "1.1.1.1", "1.2.3.4", "93.184.216.34", "11.0.0.1", "172.15.255.255",
             "172.32.0.1", "100.63.255.255", "100.128.0.1", "169.253.1.1", "169.255.0.1",
             "192.0.3.1", "192.169.0.1", "198.51.101.1", "203.0.114.1", "223.255.255.255"}) {
    EXPECT_TRUE(valid_public_ip(ip)) << ip;
  }
}

TEST(ValidPublicIp, AcceptsPublicV6) {
  for (const std::string& ip : Cases{"2606:4700:4700::1111", "2001:4860:4860::8888",
                                     "2a00:1450:4001:82a::200e", "2001:db9::1", "2001:0db7:ffff::1",
                                     "fec0::1", "::ffff:8.8.8.8", "2620:0:2d0:200::7"}) {
    EXPECT_TRUE(valid_public_ip(ip)) << ip;
  }
}

TEST(ValidPublicIp, RejectsNonPublicV4) {
  for (const std::string& ip : Cases{
           "0.0.0.0",     "0.1.2.3",         "10.0.0.1",   "10.255.255.255",  "127.0.0.1",
           "127.255.0.1", "169.254.169.254", "172.16.0.1", "172.31.255.255",  "192.168.1.1",
           "100.64.0.1",  "100.127.255.255", "192.0.2.1",  "198.51.100.7",    "203.0.113.9",
           "224.0.0.1",   "239.255.255.250", "240.0.0.1",  "255.255.255.255", "198.18.0.1",
           "192.0.0.8",
       }) {
    EXPECT_FALSE(valid_public_ip(ip)) << ip;
  }
}

TEST(ValidPublicIp, RejectsNonPublicV6) {
  for (const std::string& ip :
       Cases{"::", "::1", "0:0:0:0:0:0:0:1", "fe80::1", "febf::1", "fc00::1", "fd12:3456::1",
             "2001:db8::1", "2001:DB8:ffff::1", "ff02::1", "ff05::1:3", "::ffff:10.0.0.1",
             "::ffff:127.0.0.1", "::ffff:192.168.0.1", "::ffff:a9fe:a9fe", "::ffff:0.0.0.0"}) {
    EXPECT_FALSE(valid_public_ip(ip)) << ip;
  }
}

TEST(ValidPublicIp, RejectsMalformedText) {
  for (const std::string& ip :
       Cases{"", "010.1.1.1", "8.8.8.08", "8.08.8.8", "256.1.1.1", "1.2.3", "1.2.3.4.5", " 8.8.8.8",
             "8.8.8.8 ", "8.8.8.8/32", "hello", "1.2.3.4a", "2001:4860::8888::1",
             "[2001:4860::8888]", "fe80::1%eth0", "2001:4860:4860::8888:", "0x8.8.8.8",
             "2606:4700:4700:0000:0000:0000:0000:1111:1"}) {
    EXPECT_FALSE(valid_public_ip(ip)) << ip;
  }
  EXPECT_FALSE(valid_public_ip(std::string_view("8.8.8.8\0", 8))) << "embedded NUL";
  EXPECT_FALSE(valid_public_ip(std::string(100, '1'))) << "overlong";
}

}  // namespace
}  // namespace llmtap::policy
