#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bazaar::edge {

/// Initialises libsodium once (thread-safe); throws std::runtime_error when it cannot.
void ensure_sodium();

/// base64url without padding (RFC 4648 §5), as JWTs and refresh tokens use it.
std::string base64url_encode(std::string_view bytes);
/// Decodes base64url without padding; nullopt for anything else.
std::optional<std::string> base64url_decode(std::string_view text);

/// `n` bytes from the operating system's CSPRNG.
std::string random_bytes(std::size_t n);
/// A uniformly drawn integer in [0, upper) from the CSPRNG.
std::uint32_t random_below(std::uint32_t upper);

/// SHA-256 of `data` as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);

/// Compares two strings in time that depends only on their lengths.
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace bazaar::edge
