export const kitVersion = '0.1.0';
