export const url = process.env.DB_URL;
