// One report in a list of reports (the biological validation worklist, the autoverified results to review, the
// validated reports): its request number as the link to the report's screen, then its patient, then the cells
// the list adds of its own. The patient comes from the bundle's _include; else the reference's display.
import type { ReactNode } from "react";
import { Anchor, Table } from "@mantine/core";
import { shortName, type Patient } from "../identity";
import { requestNumber, type DiagnosticReport } from "../reports";
import { linkProps } from "../router";

export function ReportRow({ report, patient, href, children }: {
  report: DiagnosticReport;
  patient: Patient | undefined;
  href: string;
  children: ReactNode;
}) {
  return (
    <Table.Tr>
      <Table.Td>
        <Anchor {...linkProps(href)}>{requestNumber(report)}</Anchor>
      </Table.Td>
      <Table.Td>{patient ? shortName(patient) : report.subject?.display ?? "—"}</Table.Td>
      {children}
    </Table.Tr>
  );
}
