#include "product_policy.hpp"

namespace bazaar::catalog {

std::optional<Role> parse_role(std::string_view text) {
  if (text == "admin") return Role::admin;
  if (text == "seller") return Role::seller;
  if (text == "buyer") return Role::buyer;
  return std::nullopt;
}

std::string_view to_string(Refusal reason) {
  switch (reason) {
    case Refusal::not_found:
      return "not_found";
    case Refusal::forbidden:
      return "forbidden";
    case Refusal::already_exists:
      return "already_exists";
    case Refusal::invalid:
      return "invalid";
  }
  return "invalid";
}

std::optional<Rejection> decide_create(const Actor& actor, std::string_view seller_id,
                                       const std::optional<ProductOwnership>& existing) {
  // Authorisation comes first so that a caller who may not list for this seller learns
  // nothing about which product ids exist.
  if (actor.role == Role::buyer) {
    return Rejection{Refusal::forbidden, "buyers cannot list products"};
  }
  if (actor.role == Role::seller && actor.id != seller_id) {
    return Rejection{Refusal::forbidden, "sellers can list products only for themselves"};
  }
  if (existing) {
    return Rejection{Refusal::already_exists, "a product with this id exists"};
  }
  return std::nullopt;
}

std::optional<Rejection> decide_update(const Actor& actor,
                                       const std::optional<ProductOwnership>& existing) {
  if (!existing || existing->deleted) {
    return Rejection{Refusal::not_found, "no such product"};
  }
  if (actor.role == Role::admin) return std::nullopt;
  if (actor.role == Role::seller && actor.id == existing->seller_id) return std::nullopt;
  return Rejection{Refusal::forbidden, "only the product's seller or an admin may change it"};
}

std::optional<Rejection> decide_delete(const Actor& actor,
                                       const std::optional<ProductOwnership>& existing) {
  // Non-admins are refused before the lookup: they may not learn whether the product exists.
  if (actor.role != Role::admin) {
    return Rejection{Refusal::forbidden, "only an admin may delete a product"};
  }
  if (!existing || existing->deleted) {
    return Rejection{Refusal::not_found, "no such product"};
  }
  return std::nullopt;
}

}  // namespace bazaar::catalog
