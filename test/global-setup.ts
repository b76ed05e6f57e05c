// Replaced by the database bootstrap (creates the test database and applies migrations).
export default async function setup(): Promise<void> {}
