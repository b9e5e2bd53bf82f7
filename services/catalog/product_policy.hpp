#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bazaar::catalog {

/// The roles of the platform, as commands carry them in `actor_role`.
enum class Role { admin, seller, buyer };

/// The role named by `text`, or nullopt for anything else.
std::optional<Role> parse_role(std::string_view text);

/// Who sends a command.
struct Actor {
  std::string id;
  Role role = Role::buyer;
};

/// What the catalog holds about the product a command names.
struct ProductOwnership {
  std::string seller_id;
  bool deleted = false;
};

/// Why a command is refused; the names are the `reason` values of ProductCommandRejected.
enum class Refusal { not_found, forbidden, already_exists, invalid };

/// The wire name of a refusal.
std::string_view to_string(Refusal reason);

/// A refused command: the reason and a short explanation for people.
struct Rejection {
  Refusal reason;
  std::string detail;
};

/// Whether `actor` may list a product for `seller_id`; `existing` is the product of that id,
/// if any ever existed (a deleted id is never reused). nullopt means allowed.
std::optional<Rejection> decide_create(const Actor& actor, std::string_view seller_id,
                                       const std::optional<ProductOwnership>& existing);

/// Whether `actor` may change the product `existing` (nullopt: unknown). nullopt means allowed.
std::optional<Rejection> decide_update(const Actor& actor,
                                       const std::optional<ProductOwnership>& existing);

/// Whether `actor` may delete the product `existing` (nullopt: unknown). nullopt means allowed.
std::optional<Rejection> decide_delete(const Actor& actor,
                                       const std::optional<ProductOwnership>& existing);

}  // namespace bazaar::catalog
