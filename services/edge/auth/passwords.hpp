#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bazaar::edge {

/// argon2id cost parameters: production strength in the service, cheaper ones in tests.
struct PasswordParams {
  std::uint32_t memory_kib = 64 * 1024;
  std::uint32_t iterations = 3;
  std::uint32_t parallelism = 1;

  /// 64 MiB, 3 passes, 1 lane: about 200 ms per hash or verify.
  static PasswordParams production() { return {}; }
  /// Cheap enough for tests that hash many passwords; never for real accounts.
  static PasswordParams for_tests() { return {1024, 1, 1}; }
};

/// Shortest and longest password accepted, in characters (the cap bounds argon2's work).
inline constexpr std::size_t kMinPasswordChars = 8;
inline constexpr std::size_t kMaxPasswordChars = 128;

/// Characters (UTF-8 code points) of `text`.
std::size_t utf8_length(std::string_view text);
/// Whether a new password meets the length rule.
bool acceptable_password(std::string_view password);

/// The PHC-encoded argon2id hash (`$argon2id$v=19$m=...`) of `password` with a random
/// 16-byte salt; throws std::runtime_error when argon2 fails (out of memory).
std::string hash_password(std::string_view password, const PasswordParams& params);
/// Whether `password` matches an encoded argon2id hash; false for any malformed hash.
bool verify_password(std::string_view password, const std::string& encoded);

}  // namespace bazaar::edge
