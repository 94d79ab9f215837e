// The matricule INS check a search or an entry makes before anything is sent (SGL.INS.08): 15
// characters (13 + a 2-digit key), the key being 97 - (N mod 97) with 2A -> 19 and 2B -> 18.

export function insKeyError(raw: string): string | null {
  const value = raw.replace(/\s/g, "").toUpperCase();
  if (!/^[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{8}$/.test(value)) { // 2A/2B: a birth in Corsica
    return "Le matricule INS compte 15 caractères : 13 pour le numéro et 2 pour la clé.";
  }
  const number = value.slice(0, 13).replace("2A", "19").replace("2B", "18");
  if (!/^\d{13}$/.test(number)) return "Le matricule INS contient un caractère invalide.";
  const key = 97n - (BigInt(number) % 97n);
  if (key !== BigInt(value.slice(13))) return "La clé du matricule INS est fausse : vérifiez la saisie.";
  return null;
}
