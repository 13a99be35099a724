/// Placeholder until the guest drivers land.
enum GuestSimPlaceholder {}
