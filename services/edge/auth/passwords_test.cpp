#include "auth/passwords.hpp"

#include <doctest/doctest.h>

using namespace bazaar::edge;

TEST_CASE("a password hashes to argon2id and verifies") {
  const std::string encoded = hash_password("correct horse battery", PasswordParams::for_tests());
  CHECK(encoded.rfind("$argon2id$", 0) == 0);
  CHECK(encoded.find("m=1024,t=1,p=1") != std::string::npos);
  CHECK(verify_password("correct horse battery", encoded));
}

TEST_CASE("a wrong password does not verify") {
  const std::string encoded = hash_password("correct horse battery", PasswordParams::for_tests());
  CHECK_FALSE(verify_password("correct horse batterY", encoded));
  CHECK_FALSE(verify_password("", encoded));
}

TEST_CASE("two hashes of one password differ by their salt") {
  const auto a = hash_password("same password", PasswordParams::for_tests());
  const auto b = hash_password("same password", PasswordParams::for_tests());
  CHECK(a != b);
  CHECK(verify_password("same password", a));
  CHECK(verify_password("same password", b));
}

TEST_CASE("malformed or foreign hashes never verify") {
  CHECK_FALSE(verify_password("anything", ""));
  CHECK_FALSE(verify_password("anything", "!"));
  CHECK_FALSE(verify_password("anything", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA"));
  CHECK_FALSE(verify_password("anything", "$argon2id$garbage"));
}

TEST_CASE("production parameters are 64 MiB and three passes") {
  const auto p = PasswordParams::production();
  CHECK(p.memory_kib == 65536);
  CHECK(p.iterations == 3);
  CHECK(p.parallelism == 1);
}

TEST_CASE("the password rule counts characters from 8 to 128") {
  CHECK_FALSE(acceptable_password("short"));
  CHECK_FALSE(acceptable_password("1234567"));
  CHECK(acceptable_password("12345678"));
  CHECK(acceptable_password(std::string(128, 'x')));
  CHECK_FALSE(acceptable_password(std::string(129, 'x')));
  // Eight two-byte characters are eight characters, not sixteen.
  std::string umlauts;
  for (int i = 0; i < 7; ++i) umlauts += "\xc3\xa4";
  CHECK(utf8_length(umlauts) == 7);
  CHECK_FALSE(acceptable_password(umlauts));
  CHECK(acceptable_password(umlauts + "\xc3\xa4"));
}
